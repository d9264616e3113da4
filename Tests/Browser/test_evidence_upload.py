#!/usr/bin/env python3
"""Browser test of evidence uploads in headless Chromium. Usage: test_evidence_upload.py BASE_URL
With JavaScript: a file is hashed in the browser (WebCrypto), uploaded resumably (tus) with a progress bar, paused
and resumed on a throttled connection, and the receipt shows the server's SHA-256 with a note that it matches the
fingerprint the browser computed. Without JavaScript: the same file field is sent with the form (multipart) and
the receipt shows its SHA-256. Needs selenium (PyPI) and Debian's chromium + chromium-driver."""
import hashlib
import os
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"
SIZE = 3 * 1024 * 1024


def make_driver(javascript):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-US",
                     "--window-size=412,915"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_until(driver, condition, seconds=60):
    return WebDriverWait(driver, seconds).until(condition)


def sample_file(directory):
    path = os.path.join(directory, "IMG_2041.jpg")
    with open(path, "wb") as file:
        file.write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(SIZE - 11))
    with open(path, "rb") as file:
        return path, hashlib.sha256(file.read()).hexdigest()


def fill_minimal(driver):
    driver.find_element(By.ID, "date").send_keys("11202026")
    driver.find_element(By.ID, "time").send_keys("0230PM")
    driver.find_element(By.ID, "narrative").send_keys("An agent filmed the crowd; I recorded him on 26th Street.")


def with_javascript(path, sha256):
    driver = make_driver(True)
    try:
        driver.get(f"{BASE}/report?lang=en")
        panel = driver.find_element(By.CSS_SELECTOR, ".upload-panel")
        check(panel.get_attribute("hidden") is None, "the upload panel appears with JavaScript")
        fill_minimal(driver)
        # A slow link (about 256 KiB/s up), so the upload is still running when it is paused.
        driver.set_network_conditions(offline=False, latency=20, download_throughput=10 * 1024 * 1024,
                                      upload_throughput=256 * 1024)
        driver.find_element(By.ID, "evidence").send_keys(path)
        fingerprint = wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".upload-sha256")
                                 if sha256 in d.find_element(By.CSS_SELECTOR, ".upload-sha256").text else False)
        check(sha256 in fingerprint.text, "the browser shows the SHA-256 it computed")
        bar = driver.find_element(By.CSS_SELECTOR, ".upload-item progress")
        wait_until(driver, lambda d: float(bar.get_attribute("value")) > 0)
        driver.find_element(By.CSS_SELECTOR, ".upload-pause").click()
        status = driver.find_element(By.CSS_SELECTOR, ".upload-status")
        check(status.text == "Paused.", f"paused: {status.text!r}")
        paused_at = float(bar.get_attribute("value"))
        check(paused_at < SIZE, "paused before the end")
        # Submitting while a file is unfinished is held back with a message.
        driver.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
        wait = driver.find_element(By.ID, "upload-wait")
        check(wait.is_displayed() and "wait" in wait.text.lower(), "submit waits for the upload")
        time.sleep(1.5)
        check(float(bar.get_attribute("value")) <= paused_at + 8 * 1024 * 1024, "no progress while paused")
        driver.set_network_conditions(offline=False, latency=0, download_throughput=100 * 1024 * 1024,
                                      upload_throughput=100 * 1024 * 1024)
        driver.find_element(By.CSS_SELECTOR, ".upload-pause").click()
        wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".upload-status").text == "Received.", 120)
        check(float(bar.get_attribute("value")) == float(bar.get_attribute("max")), "the progress bar is full")
        check(len(driver.find_elements(By.CSS_SELECTOR, "input[type=hidden][name=uploads]")) == 1,
              "the finished upload is attached to the form")
        driver.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
        wait_until(driver, expected_conditions.presence_of_element_located((By.ID, "receipt-evidence")))
        hashes = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#receipt-evidence .evidence-sha256")]
        check(hashes == [sha256], f"the receipt shows the file's SHA-256: {hashes}")
        checked = driver.find_elements(By.CSS_SELECTOR, "#receipt-evidence .evidence-checked")
        check(len(checked) == 1 and "fingerprint your device computed" in checked[0].text,
              "the receipt says the browser's fingerprint matched")
        return driver.find_element(By.ID, "receipt-reference").text
    finally:
        driver.quit()


def without_javascript(path, sha256):
    driver = make_driver(False)
    try:
        driver.get(f"{BASE}/report?lang=es")
        check(driver.find_element(By.CSS_SELECTOR, ".upload-panel").get_attribute("hidden") is not None,
              "no upload panel without JavaScript")
        fill_minimal(driver)
        driver.find_element(By.ID, "evidence").send_keys(path)
        driver.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
        wait_until(driver, expected_conditions.presence_of_element_located((By.ID, "receipt-evidence")))
        check("Archivos recibidos" in driver.page_source, "the Spanish receipt lists the files")
        hashes = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#receipt-evidence .evidence-sha256")]
        check(hashes == [sha256], f"the receipt shows the file's SHA-256: {hashes}")
        return driver.find_element(By.ID, "receipt-reference").text
    finally:
        driver.quit()


def main():
    directory = tempfile.mkdtemp(prefix="attest-browser-evidence-")
    path, sha256 = sample_file(directory)
    passed = failed = 0
    for name, run in (("JavaScript on: resumable, hashed in the browser", with_javascript),
                      ("JavaScript off: multipart", without_javascript)):
        try:
            print(f"PASS {name}: {run(path, sha256)}")
            passed += 1
        except Exception:
            print(f"FAIL {name}")
            traceback.print_exc()
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
