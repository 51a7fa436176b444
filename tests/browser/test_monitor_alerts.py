"""The live monitor sounds a new alarm once (Web Audio, stubbed here to count the tones), never
again for the same alarm, and not at all once muted on this screen; the alarm box shows either
way and the mute is remembered. The page runs under its real Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ketacare.site.demo import DEMO_PASSWORD
from tests.browser.conftest import pass_second_step
from tests.serverproc import Server

pytestmark = pytest.mark.browser

# Counts the tones the page starts instead of playing them (an AudioContext that is "running").
COUNT_TONES = """
window.__tones = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createOscillator() {
    return { type: "", frequency: { setValueAtTime() {} }, connect() {},
             start() { window.__tones += 1; }, stop() {} };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
  }
};
"""

ROOT = Path(__file__).resolve().parents[2]  # so that the shell can import the test builders
NEW_ALARM = """
import sys
sys.path.insert(0, {root!r})
from ketacare.accounts.models import User
from ketacare.clinical import monitoring
from ketacare.supervised.models import Session
from ketacare.supervised.services import observations
from tests.supervised.builders import act
session = Session.objects.filter(state="dosing").order_by("pk").first()
stored = observations.record_vitals(
    act(User.objects.get(username="nurse.reyes")), session, monitoring.Vitals({values}))
print(stored.alarms[0].pk)
"""


def new_alarm(demo_server: Server, values: str) -> str:
    """Record a reading that raises an alarm on the demo's infusion under way; its id."""
    printed = demo_server.ketacare("shell", "-c", NEW_ALARM.format(root=str(ROOT), values=values))
    return printed.strip().splitlines()[-1]


@pytest.fixture
def monitor(browser: Browser, demo_server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=demo_server.url)
    context.set_default_timeout(15_000)
    context.add_init_script(COUNT_TONES)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("nurse.reyes")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_step(page, "nurse.reyes")
    page.goto("/monitor/")
    try:
        yield page
    finally:
        context.close()


def tones(page: Page) -> int:
    return int(page.evaluate("window.__tones"))


def wait_for_tones(page: Page, count: int) -> None:
    """Until the page has started ``count`` tones (polled from the test: the page's policy
    forbids the eval that Playwright's wait_for_function needs)."""
    for _ in range(100):
        if tones(page) == count:
            return
        page.wait_for_timeout(150)
    assert tones(page) == count


def test_a_new_alarm_sounds_once_and_a_muted_screen_stays_silent(
    monitor: Page, demo_server: Server
) -> None:
    button = monitor.get_by_role("button", name="Alarm sound: on")
    expect(button).to_be_visible()
    # The demo's open alarms were not heard on this screen yet: one tone for them all.
    expect(monitor.get_by_test_id("alarm").first).to_be_visible()
    wait_for_tones(monitor, 1)

    alarm = new_alarm(demo_server, "120, 78, 88, 86, 14")  # SpO2 86 %: hypoxemia
    expect(monitor.locator(f'[data-alarm-id="{alarm}"]')).to_be_visible()
    wait_for_tones(monitor, 2)
    monitor.wait_for_timeout(6_000)  # another poll brings the same alarms back: no new tone
    assert tones(monitor) == 2

    button.click()
    expect(monitor.get_by_role("button", name="Alarm sound: muted")).to_be_visible()
    alarm = new_alarm(demo_server, "120, 78, 142, 97, 14")  # heart rate 142: tachycardia
    expect(monitor.locator(f'[data-alarm-id="{alarm}"]')).to_be_visible()  # the cue stays
    monitor.wait_for_timeout(6_000)
    assert tones(monitor) == 2

    monitor.reload()  # the mute belongs to this screen, and outlives the page
    expect(monitor.get_by_role("button", name="Alarm sound: muted")).to_be_visible()
    monitor.wait_for_timeout(1_000)
    assert tones(monitor) == 0


def test_the_sound_is_switched_on_again_with_the_same_button(
    monitor: Page, demo_server: Server
) -> None:
    monitor.evaluate("localStorage.setItem('ketacare.monitor.muted', '1')")
    monitor.reload()
    monitor.get_by_role("button", name="Alarm sound: muted").focus()
    monitor.keyboard.press("Enter")

    expect(monitor.get_by_role("button", name="Alarm sound: on")).to_be_visible()
    alarm = new_alarm(demo_server, "84, 50, 80, 97, 14")  # systolic 84: hypotension
    expect(monitor.locator(f'[data-alarm-id="{alarm}"]')).to_be_visible()
    wait_for_tones(monitor, 1)
