"""KPI charts as SVG drawn on the server: plain markup, no JavaScript, nothing from a CDN.

Each chart function takes the KPI report (``kpis.kpi_report``) and a language (``zh``/``en``) and
returns an SVG document: horizontal bars, a label and the figure at the end of each bar, a title
(also the accessible name). The console embeds them with ``<img src=…>``.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

WIDTH = 640
LABEL_W = 170
VALUE_W = 130  # room after the bar for its figure, e.g. "5 (overdue 1, 12d)"
BAR_H = 18
GAP = 8
TOP = 44
FONT = "'WenQuanYi Micro Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif"
COLOURS = {"good": "#2f855a", "bad": "#c53030", "neutral": "#2b6cb0", "muted": "#a0aec0"}

TITLES = {
    "on_time": ("准时到达率（R1）", "On-time arrival (R1)"),
    "notice": ("提前 2 小时通知率（R2）", "Customers told 2 h ahead (R2)"),
    "repair_sla": ("抢修时限达标率（R8）", "Repair clocks met (R8)"),
    "approval": ("施工前客户签字确认率（R3）", "Approval before work (R3)"),
    "hazards": ("未整改隐患（R16）", "Open hazards (R16)"),
    "satisfaction": ("回访满意度（R6）", "Follow-up satisfaction (R6)"),
    "coverage": ("安检覆盖率（R7）", "Inspection coverage (R7)"),
    "complaints": ("投诉按期答复率（R10）", "Complaints answered in time (R10)"),
}
WORDS = {
    "total": ("合计", "Total"), "respond": ("响应", "respond"), "fix": ("修复", "fix"),
    "overdue": ("逾期", "overdue"), "open": ("未整改", "open"), "none": ("无数据", "no data"),
    "mean": ("平均", "mean"), "period": ("期间", "period"), "company": ("全公司", "Company"),
    "running": ("未到期", "still running"),
}
CATEGORIES = {"residential": ("居民", "Residential"), "commercial": ("商业", "Commercial"),
              "industrial": ("工业", "Industrial"), "heating": ("采暖", "Heating")}


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _text_px(text: str) -> float:
    """Roughly how wide ``text`` is at 12 px: CJK characters are square, the rest about half as wide."""
    return sum(12.0 if ord(ch) > 0x2E80 else 6.6 for ch in text)


def _fit(text: str, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` pixels (a label never runs off the chart)."""
    if _text_px(text) <= width:
        return text
    while text and _text_px(text + "…") > width:
        text = text[:-1]
    return text + "…"


def bar_chart(title: str, subtitle: str, rows: list[tuple[str, float | None, float, str, str]]) -> str:
    """An SVG of horizontal bars; ``rows`` are (label, value, scale maximum, text at the bar's end, colour)."""
    height = TOP + max(len(rows), 1) * (BAR_H + GAP) + 16
    span = WIDTH - LABEL_W - VALUE_W
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="{escape(FONT)}" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="20" font-size="15" font-weight="bold" fill="#1a202c">{escape(title)}</text>',
        f'<text x="10" y="36" font-size="11" fill="#4a5568">{escape(subtitle)}</text>',
    ]
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{TOP + BAR_H}" fill="#718096">—</text>')
    for i, (label, value, maximum, text, colour) in enumerate(rows):
        y = TOP + i * (BAR_H + GAP)
        width = 0.0 if value is None or maximum <= 0 else max(0.0, min(1.0, value / maximum)) * span
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + BAR_H - 5}" text-anchor="end" fill="#2d3748">'
                     f"<title>{escape(label)}</title>{escape(_fit(label, LABEL_W - 12))}</text>")
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{span}" height="{BAR_H}" fill="#edf2f7"/>')
        if width > 0:
            parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="{colour}">'
                         f"<title>{escape(label)}: {escape(text)}</title></rect>")
        parts.append(f'<text x="{LABEL_W + span + 6}" y="{y + BAR_H - 5}" fill="#1a202c">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _who(report: dict[str, Any], lang: str) -> list[tuple[str, dict[str, Any]]]:
    rows = [(_t(WORDS["total"], lang), report["total"])]
    rows += [(f"{t['technician_name']} {t['staff_no']}".strip(), t) for t in report["technicians"]]
    return rows


def _subtitle(report: dict[str, Any], lang: str) -> str:
    return f"{_t(WORDS['period'], lang)} {report['date_from'].isoformat()} – {report['date_to'].isoformat()}"


def _rate_colour(rate: float | None, good: float = 0.95) -> str:
    if rate is None:
        return COLOURS["muted"]
    return COLOURS["good"] if rate >= good else COLOURS["bad"]


def _rate_chart(key: str, figure: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any], str], str]:
    def chart(report: dict[str, Any], lang: str) -> str:
        rows = []
        for label, figures in _who(report, lang):
            rate = figure(figures)
            rows.append((label, rate["rate"], 1.0, f"{_pct(rate['rate'])} ({rate['numerator']}/{rate['denominator']})",
                         _rate_colour(rate["rate"])))
        return bar_chart(_t(TITLES[key], lang), _subtitle(report, lang), rows)
    return chart


def repair_sla_chart(report: dict[str, Any], lang: str) -> str:
    """R8: respond and fix clocks met, per technician."""
    rows = []
    for label, figures in _who(report, lang):
        for clock in ("respond", "fix"):
            sla = figures["repair_sla"][clock]
            text = f"{_pct(sla['rate'])} ({sla['met']}/{sla['met'] + sla['breached']})"
            suffix = f" · {_t(WORDS[clock], lang)}"  # the clock's name stays whole when the name is cut
            rows.append((_fit(label, LABEL_W - 12 - _text_px(suffix)) + suffix, sla["rate"], 1.0, text,
                         _rate_colour(sla["rate"])))
    return bar_chart(_t(TITLES["repair_sla"], lang), _subtitle(report, lang), rows)


def hazards_chart(report: dict[str, Any], lang: str) -> str:
    """R16: open and overdue hazards per technician who found them."""
    who = _who(report, lang)
    top = max([f["open_hazards"]["open"] for _, f in who] + [1])
    rows = []
    for label, figures in who:
        h = figures["open_hazards"]
        age = "" if h["median_age_days"] is None else f", {h['median_age_days']:.0f}d"
        rows.append((label, h["open"], top, f"{h['open']} ({_t(WORDS['overdue'], lang)} {h['overdue']}{age})",
                     COLOURS["bad"] if h["overdue"] else COLOURS["neutral"]))
    return bar_chart(_t(TITLES["hazards"], lang), _subtitle(report, lang), rows)


def satisfaction_chart(report: dict[str, Any], lang: str) -> str:
    """R6: how many follow-up calls gave each score, 5 (best) first."""
    sat = report["total"]["satisfaction"]
    top = max(list(sat["distribution"].values()) + [1])
    rows = [(f"{'★' * score}", sat["distribution"][str(score)], top, str(sat["distribution"][str(score)]),
             COLOURS["good"] if score >= 4 else COLOURS["bad"] if score <= 2 else COLOURS["neutral"])
            for score in range(5, 0, -1)]
    mean = "—" if sat["mean"] is None else f"{sat['mean']:.2f}"
    subtitle = f"{_subtitle(report, lang)} · {_t(WORDS['mean'], lang)} {mean} (n={sat['responses']})"
    return bar_chart(_t(TITLES["satisfaction"], lang), subtitle, rows)


def coverage_chart(report: dict[str, Any], lang: str) -> str:
    """R7: the share of each category's customers inspected within their interval."""
    rows = []
    for row in report["inspection_coverage"]:
        pct = row["coverage_pct"]
        rows.append((_t(CATEGORIES.get(row["category"], (row["category"],) * 2), lang),
                     pct, 100.0, f"{'—' if pct is None else f'{pct:.1f}%'} ({row['in_date']}/{row['customers']})",
                     _rate_colour(None if pct is None else pct / 100, good=0.9)))
    return bar_chart(_t(TITLES["coverage"], lang), _subtitle(report, lang), rows)


def complaints_chart(report: dict[str, Any], lang: str) -> str:
    """R10 (company-wide): complaints answered by their deadline (the agreed extension when there is one)."""
    c = report["complaint_sla"]
    text = f"{_pct(c['rate'])} ({c['met']}/{c['met'] + c['breached']})"
    subtitle = f"{_subtitle(report, lang)} · {_t(WORDS['running'], lang)} {c['running']}"
    return bar_chart(_t(TITLES["complaints"], lang), subtitle,
                     [(_t(WORDS["company"], lang), c["rate"], 1.0, text, _rate_colour(c["rate"]))])


CHARTS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "on_time": _rate_chart("on_time", lambda f: f["on_time"]),
    "notice": _rate_chart("notice", lambda f: f["notice"]),
    "approval": _rate_chart("approval", lambda f: f["approval_before_work"]),
    "repair_sla": repair_sla_chart,
    "hazards": hazards_chart,
    "satisfaction": satisfaction_chart,
    "coverage": coverage_chart,
    "complaints": complaints_chart,
}
