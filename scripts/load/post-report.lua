-- wrk script: POST /api/v1/reports with a typical report.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"occurredAt":{"from":"2026-11-20T14:30:00-06:00","approximate":true},
"location":{"description":"26th St & Pulaski","latitude":41.8445,"longitude":-87.7249},
"narrative":"Three agents in tactical vests stopped a man walking to work and pushed him against a car. They refused to give names or badge numbers and left in a grey SUV.",
"categories":["physical_force","failure_to_identify"],
"agents":{"count":3,"agency":"ice","descriptions":[{"vestText":"POLICE ICE","masked":"fully","bodyCamera":false}]},
"harm":{"injuries":true,"medicalCareNeeded":false,"medicalCareDeniedOrDelayed":false},
"reporterRole":"witness","contact":{"phone":"+1 312 555 0100"},"consents":{"publicStatistics":true},"language":"en"}]]

-- No response() callback: with one, wrk hands every response to Lua, which costs the load generator CPU on
-- the same two cores as the server. Every success of this endpoint is 201, so the shell script counts
-- acknowledged reports as requests minus wrk's "Non-2xx or 3xx responses" and socket errors.
function done(summary, latency, requests)
  io.write(string.format("requests %d, errors connect %d read %d write %d timeout %d, non-2xx %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
