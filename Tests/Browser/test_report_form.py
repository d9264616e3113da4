#!/usr/bin/env python3
"""Browser test: a resident files a report in English and in Spanish, with JavaScript on and off, in headless
Chromium, then checks the receipt and the follow-up page. Usage: test_report_form.py BASE_URL
Needs selenium (PyPI) and Debian's chromium + chromium-driver."""
import sys
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"

TEXT = {
    "en": {"receipt": "Your report was received", "error": "There is a problem with your report",
           "blank": "This is required.", "added": "Your information was added",
           "narrative": "Three agents in tactical vests pushed my neighbour against a car on 26th Street.",
           "supplement": "The van had Illinois plates starting with 7K."},
    "es": {"receipt": "Recibimos su reporte", "error": "Hay un problema con su reporte",
           "blank": "Esto es obligatorio.", "added": "Su información se agregó",
           "narrative": "Tres agentes con chalecos empujaron a mi vecina contra un coche en la calle 26. ¡Qué miedo!",
           "supplement": "La camioneta tenía placas de Illinois que empezaban con 7K."},
}


def make_driver(javascript):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-US",
                     "--window-size=412,915"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(driver, element_id):
    """The element, once the page that has it has loaded (a click returns before navigation ends)."""
    return WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def file_report(driver, language, javascript):
    text = TEXT[language]
    driver.get(f"{BASE}/report?lang={language}")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language, "page language")
    # First an invalid submission: no date, no narrative.
    driver.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
    summary = wait_for(driver, "error-summary")
    check(text["error"] in summary.text, f"error summary in {language}: {summary.text!r}")
    link = summary.find_element(By.CSS_SELECTOR, "a[href='#narrative']")
    check(text["blank"] in link.text, "the narrative error is linked")
    check(driver.find_element(By.ID, "narrative").get_attribute("aria-invalid") == "true", "narrative marked invalid")
    if javascript:
        check(driver.switch_to.active_element.get_attribute("id") == "error-summary", "focus moves to the summary")
        check(driver.find_element(By.ID, "use-location").is_displayed(), "location button shown with JavaScript")
    else:
        check(not driver.find_element(By.ID, "use-location").is_displayed(), "no location button without JavaScript")
    # Now a valid one.
    date = driver.find_element(By.ID, "date")
    date.send_keys("11202026")  # Chromium's date field, en-US order: month, day, year
    driver.find_element(By.ID, "time").send_keys("0230PM")
    driver.find_element(By.ID, "approximate").click()
    driver.find_element(By.ID, "location-description").send_keys("26th St & Pulaski")
    driver.find_element(By.ID, "narrative").send_keys(text["narrative"])
    driver.find_element(By.ID, "categories-physical_force").click()
    driver.find_element(By.ID, "agents-agency-ice").click()
    driver.find_element(By.ID, "agents-descriptions-0--vestText").send_keys("POLICE ICE")
    driver.find_element(By.ID, "agents-descriptions-0--masked-fully").click()
    driver.find_element(By.ID, "reporterRole-witness").click()
    driver.find_element(By.ID, "consents-publicStatistics").click()
    driver.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
    reference = wait_for(driver, "receipt-reference").text
    heading = driver.find_element(By.TAG_NAME, "h1").text
    check(text["receipt"] in heading, f"receipt heading in {language}: {heading!r}")
    code = driver.find_element(By.ID, "receipt-code").text
    check(reference.startswith("R-20") and len(code) == 34, f"reference {reference!r} and code")
    check(len(driver.find_element(By.ID, "receipt-hash").text) == 64, "content hash on the receipt")
    return reference, code


def follow_up(driver, language, reference, code):
    text = TEXT[language]
    driver.get(f"{BASE}/follow-up?lang={language}")
    driver.find_element(By.ID, "reference").send_keys(reference)
    driver.find_element(By.ID, "code").send_keys(code.replace("-", " ").lower())
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    check(wait_for(driver, "status-reference").text == reference, "status page shows the reference")
    driver.find_element(By.ID, "text").send_keys(text["supplement"])
    driver.find_element(By.CSS_SELECTOR, "section form button[type=submit]").click()
    check(text["added"] in wait_for(driver, "supplement-added").text, "supplement confirmation")
    bodies = [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".message-body")]
    check(text["supplement"] in bodies, f"supplement in the thread: {bodies!r}")


def main():
    passed, failed = 0, 0
    for javascript in (True, False):
        for language in ("en", "es"):
            name = f"{language}, JavaScript {'on' if javascript else 'off'}"
            driver = make_driver(javascript)
            try:
                reference, code = file_report(driver, language, javascript)
                follow_up(driver, language, reference, code)
                print(f"PASS {name}: {reference}")
                passed += 1
            except Exception:
                print(f"FAIL {name}")
                traceback.print_exc()
                driver.save_screenshot(f"/tmp/attest-browser-{language}-{'js' if javascript else 'nojs'}.png")
                failed += 1
            finally:
                driver.quit()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
