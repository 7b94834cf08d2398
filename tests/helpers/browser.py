"""What every browser test does on every page: check it with axe-core, photograph it, and
move through it with the keyboard. Plain functions; the fixtures in conftest.py wire them up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = BASE_DIR / "test-artifacts" / "screenshots"
AXE_DIR = BASE_DIR / "test-artifacts" / "axe"
GUIDE_IMG_DIR = BASE_DIR / "docs" / "handleiding" / "img"
VIEWPORT = {"width": 1280, "height": 800}
BLOCKING_IMPACTS = ("serious", "critical")


def guide_screenshots_wanted() -> bool:
    return os.environ.get("KB_GUIDE_SCREENSHOTS") == "1"


# --- axe-core ----------------------------------------------------------------------------------


def _axe():
    # Imported late: without the package the browser tests skip in `browser`, not at import.
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def axe_violations(page) -> list[dict]:
    """Run axe-core (injected from the package, through the DevTools protocol, so our strict
    Content-Security-Policy does not stop it) on the page as it is now."""
    return _axe().run(page).response["violations"]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"][:10]:
            target = ", ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page, label: str) -> list[dict]:
    """No axe violation with impact serious or critical. Milder ones are written to
    test-artifacts/axe/<label>.txt (and printed) for a person to judge."""
    violations = axe_violations(page)
    if violations:
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        report = f"{label}: {page.url}\n{format_violations(violations)}\n"
        (AXE_DIR / f"{label}.txt").write_text(report)
        print(report)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found serious or critical problems on {label} ({page.url}):\n"
        + format_violations(blocking)
    )
    return violations


# --- Screenshots -------------------------------------------------------------------------------


def screenshot(page, name: str, *, guide: bool = False, full_page: bool = False) -> Path:
    """A PNG of what the user sees (the 1280×800 viewport) in test-artifacts/screenshots/;
    with KB_GUIDE_SCREENSHOTS=1 a guide picture is also copied to docs/handleiding/img/ under
    the same stable name, which the guide's Markdown refers to."""
    assert page.viewport_size == VIEWPORT, page.viewport_size
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    # No blinking caret or running stripes: the same page gives the same picture.
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    if guide and guide_screenshots_wanted():
        GUIDE_IMG_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, GUIDE_IMG_DIR / path.name)
    return path


# --- Keyboard ----------------------------------------------------------------------------------

_IS_FOCUSED = "el => el === document.activeElement"
# A keyboard user must see where the focus is: an outline or Bootstrap's focus shadow.
_FOCUS_VISIBLE = """el => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return outline || (s.boxShadow && s.boxShadow !== 'none');
}"""


def is_focused(locator) -> bool:
    return locator.evaluate(_IS_FOCUSED)


def tab_to(page, locator, *, backwards: bool = False, max_presses: int = 60) -> None:
    """Press Tab (or Shift+Tab) until `locator` has the focus, as a keyboard user would, and
    check that the focus is visible there. Fails when the element is never reached."""
    key = "Shift+Tab" if backwards else "Tab"
    locator.wait_for()
    for _ in range(max_presses):
        page.keyboard.press(key)
        if is_focused(locator):
            assert locator.evaluate(_FOCUS_VISIBLE), f"focus on {locator} is not visible"
            return
    focused = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{key} × {max_presses} never reached {locator}; focus is on {focused}")


def focused_element_html(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.outerHTML : ''")
