#!/usr/bin/env python3
"""Browser test of the staff workspace in headless Chromium. Usage: test_staff_workflow.py ATTEST_BINARY
Starts Attest on a fresh data directory (SQLite unless DATABASE_URL is set) and reads the first-start setup link it
prints; creates the administrator with two-factor authentication; the administrator creates an investigator and a
supervisor, who enroll through their setup links and sign in with two-factor codes; the investigator triages three
related reports into one incident and takes its case file to supervisor review; the supervisor closes it as
referred; finally `attest log verify` must pass."""
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BINARY = sys.argv[1]
PORT = 18095
BASE = f"http://127.0.0.1:{PORT}"


def totp(secret, at=None):
    """RFC 6238, SHA-1, 6 digits, 30 seconds: what authenticator apps compute."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def next_code(secret, used):
    """A code from a step after the last one used (a code is accepted once)."""
    while int(time.time() // 30) <= used.get(secret, -1):
        time.sleep(0.5)
    used[secret] = int(time.time() // 30)
    return totp(secret)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def start(data_dir):
    env = dict(os.environ, ATTEST_DATA_DIR=data_dir, ATTEST_RATE_LIMIT_PER_MINUTE="0",
               ATTEST_STAFF_SIGN_IN_PER_MINUTE="0", LOG_LEVEL="warning", ATTEST_PUBLIC_URL=BASE)
    log = open(os.path.join(data_dir, "server.out"), "w")
    process = subprocess.Popen([BINARY, "serve", "--port", str(PORT)], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        text = open(os.path.join(data_dir, "server.out")).read()
        match = re.search(r"(http://\S+/staff/setup/[0-9a-f]{64})", text)
        if match:
            return process, match.group(1)
        time.sleep(0.1)
    process.kill()
    raise SystemExit("no setup link printed")


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-US",
                     "--window-size=1024,900"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(driver, element_id):
    return WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def complete_setup(driver, link, password, used, email=None, name=None, partner_code=None):
    driver.get(link)
    if partner_code:
        driver.find_element(By.ID, "partner_code").send_keys(partner_code)
    if email:
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "display_name").send_keys(name)
    secret = wait_for(driver, "totp-secret").text.replace(" ", "")
    check(driver.find_element(By.ID, "totp-uri").get_attribute("href").startswith("otpauth://totp/"), "otpauth link")
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "password_again").send_keys(password)
    driver.find_element(By.ID, "code").send_keys(next_code(secret, used))
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    codes = wait_for(driver, "recovery-codes").find_elements(By.TAG_NAME, "li")
    check(len(codes) == 10, f"ten recovery codes, got {len(codes)}")
    return secret


def sign_in(driver, email, password, secret, used):
    driver.get(f"{BASE}/staff/sign-in")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(driver, "code").send_keys(next_code(secret, used))
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(driver, "staff-identity")


def sign_out(driver):
    driver.get(f"{BASE}/staff/home")
    driver.find_element(By.ID, "sign-out").click()
    wait_for(driver, "email")


def file_reports():
    references = []
    for minute, narrative in ((0, "Masked agents from a grey van, plate 7K42X, pushed a man at 26th and Pulaski."),
                              (20, "Agents from a grey van pushed a man near 26th and Pulaski; plate 7K42X."),
                              (45, "A grey van with plate 7K42X left 26th Street; the agents wore masks.")):
        body = {"occurredAt": {"from": f"2026-11-20T14:{minute:02d}:00-06:00"}, "narrative": narrative,
                "location": {"latitude": 41.8445, "longitude": -87.7249},
                "agents": {"descriptions": [{"plateNumber": "7K42X", "vestText": "POLICE ICE"}]}}
        request = urllib.request.Request(f"{BASE}/api/v1/reports", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            references.append(json.load(response)["reference"])
    return references


def wait_until_page(driver, script, *args):
    """Waits until `script` returns true on the page now shown. The check runs as one script in the current document,
    so it never holds an element of a page being replaced; a script that lands mid-navigation (Chromium: "Node with
    given id does not belong to the document", "document unloaded") is retried, not taken as a failure."""
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(script, *args))


def wait_for_status(driver, status):
    """Waits until the case file page shows `status`."""
    wait_until_page(driver, "const e = document.getElementById('case-file-status');"
                            "return e !== null && e.getAttribute('data-status') === arguments[0];", status)


def wait_for_text(driver, element_id, text):
    """Waits until the element shows `text`."""
    wait_until_page(driver, "const e = document.getElementById(arguments[0]);"
                            "return e !== null && e.textContent.includes(arguments[1]);", element_id, text)


def choose(driver, element_id):
    driver.find_element(By.ID, element_id).click()


def main():
    data_dir = tempfile.mkdtemp(prefix="attest-staff-")
    server, link = start(data_dir)
    used = {}
    driver = make_driver()
    try:
        references = file_reports()
        admin_secret = complete_setup(driver, link, "violet tram umbrella 47", used, "chief@city.example", "Ana Chief")
        sign_in(driver, "chief@city.example", "violet tram umbrella 47", admin_secret, used)
        links = {}
        for email, name, role in (("ines@city.example", "Inés Vega", "investigator"),
                                  ("sam@city.example", "Sam Okafor", "supervisor")):
            driver.get(f"{BASE}/staff/accounts")
            driver.find_element(By.ID, "new-email").send_keys(email)
            driver.find_element(By.ID, "new-name").send_keys(name)
            driver.find_element(By.CSS_SELECTOR, f"#new-role option[value='{role}']").click()
            driver.find_element(By.ID, "create-account").click()
            if role == "supervisor":
                # A supervisor needs a second administrator: the requester gets a partner code, not a link.
                partner_code = wait_for(driver, "partner-code").text
            else:
                links[role] = wait_for(driver, "setup-link").text
        sign_out(driver)
        investigator_secret = complete_setup(driver, links["investigator"], "orange kettle saturn 9", used)
        # The second administrator comes from the operator (`attest staff create`), approves, and gets the link.
        env = dict(os.environ, ATTEST_DATA_DIR=data_dir, LOG_LEVEL="warning", ATTEST_PUBLIC_URL=BASE)
        created = subprocess.run([BINARY, "staff", "create", "--email", "bea@city.example", "--name", "Bea Second",
                                  "--role", "administrator"], env=env, capture_output=True, text=True, check=True)
        second_link = re.search(r"(http://\S+/staff/setup/[0-9a-f]{64})", created.stdout).group(1)
        second_secret = complete_setup(driver, second_link, "amber harbor violin 8", used)
        sign_in(driver, "bea@city.example", "amber harbor violin 8", second_secret, used)
        driver.get(f"{BASE}/staff/accounts")
        driver.find_element(By.CSS_SELECTOR, "#requests form[action$='/approve'] button").click()
        links["supervisor"] = wait_for(driver, "setup-link").text
        sign_out(driver)
        supervisor_secret = complete_setup(driver, links["supervisor"], "copper lantern meadow 3", used,
                                           partner_code=partner_code)

        sign_in(driver, "ines@city.example", "orange kettle saturn 9", investigator_secret, used)
        driver.get(f"{BASE}/staff/triage")
        queue = wait_for(driver, "triage-queue").text
        check(all(reference in queue for reference in references), "the three reports are in the queue")
        incident = None
        for reference in references:
            driver.get(f"{BASE}/staff/reports/{reference}")
            related = driver.find_element(By.ID, "related-reports").text
            check(all(other in related for other in references if other != reference), f"{reference}: related shown")
            choose(driver, "move-screening")
            driver.find_element(By.ID, "move-submit").click()
            wait_for(driver, "accept-submit")
            if incident is not None:
                driver.find_element(By.CSS_SELECTOR, f"input[name=incident][value='{incident}']").click()
            driver.find_element(By.ID, "accept-submit").click()
            incident = wait_for(driver, "incident-reference").text
        check(incident == "INC-2026-000001", f"one incident: {incident}")
        listed = driver.find_element(By.ID, "incident-reports").text
        check(all(reference in listed for reference in references), "the incident lists the three reports")
        driver.find_element(By.ID, "open-case-file").click()
        case_file = wait_for(driver, "case-file-reference").text
        # Build the case file: a subject agent and a note, then find the note through search.
        driver.find_element(By.CSS_SELECTOR, "#subject-add summary").click()
        driver.find_element(By.ID, "badge").send_keys("4471")
        driver.find_element(By.ID, "subject-add-submit").click()
        wait_for(driver, "subject-SA-0001")
        driver.find_element(By.ID, "note").send_keys("The bodega owner Quillfeather kept the video")
        driver.find_element(By.ID, "note-add-submit").click()
        wait_for_text(driver, "notes", "Quillfeather")
        driver.get(f"{BASE}/staff/search")
        driver.find_element(By.ID, "q").send_keys("quillfeather bodega")
        driver.find_element(By.ID, "search-submit").click()
        wait_for_text(driver, "main", case_file)
        driver.find_element(By.CSS_SELECTOR, ".search-hit a").click()
        wait_for(driver, "case-file-reference")
        for status in ("active", "supervisor_review"):
            choose(driver, f"case-move-{status}")
            driver.find_element(By.ID, "case-move-submit").click()
            wait_for_status(driver, status)
        sign_out(driver)

        sign_in(driver, "sam@city.example", "copper lantern meadow 3", supervisor_secret, used)
        driver.get(f"{BASE}/staff/case-files/{case_file}")
        choose(driver, "case-move-closed")
        driver.find_element(By.CSS_SELECTOR, "#outcome option[value='referred']").click()
        driver.find_element(By.ID, "case-move-submit").click()
        wait_for_status(driver, "closed")
        check("Referred" in driver.find_element(By.ID, "case-file-outcome").text, "outcome shown")
        sign_out(driver)

        env = dict(os.environ, ATTEST_DATA_DIR=data_dir, LOG_LEVEL="warning", ATTEST_PUBLIC_URL=BASE)
        verify = subprocess.run([BINARY, "log", "verify"], env=env, capture_output=True, text=True)
        check(verify.returncode == 0, f"attest log verify: {verify.stdout}{verify.stderr}")
        print(f"PASS staff workflow: {case_file} for {incident} ({', '.join(references)}); {verify.stdout.strip()}")
        return 0
    except Exception:
        print("FAIL staff workflow")
        traceback.print_exc()
        driver.save_screenshot("/tmp/attest-browser-staff.png")
        return 1
    finally:
        driver.quit()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
