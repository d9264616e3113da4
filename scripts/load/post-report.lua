-- wrk script: POST /api/v1/reports with a typical report; counts responses by status.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"occurredAt":{"from":"2026-11-20T14:30:00-06:00","approximate":true},
"location":{"description":"26th St & Pulaski","latitude":41.8445,"longitude":-87.7249},
"narrative":"Three agents in tactical vests stopped a man walking to work and pushed him against a car. They refused to give names or badge numbers and left in a grey SUV.",
"categories":["physical_force","failure_to_identify"],
"agents":{"count":3,"agency":"ice","descriptions":[{"vestText":"POLICE ICE","masked":"fully","bodyCamera":false}]},
"harm":{"injuries":true,"medicalCareNeeded":false,"medicalCareDeniedOrDelayed":false},
"reporterRole":"witness","contact":{"phone":"+1 312 555 0100"},"consents":{"publicStatistics":true},"language":"en"}]]

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  for status, count in pairs(totals) do
    io.write(string.format("status %d: %d\n", status, count))
  end
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
