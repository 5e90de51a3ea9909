"""The customer's service report as a PDF (R18), drawn with fpdf2 from ``visit_report_data``.

Deterministic: the same data gives the same bytes (the creation date is the visit's completion,
the producer is fixed, nothing reads the clock), so the stored SHA-256 identifies what the customer
got. Loading the 5 MB CJK font costs most of a second, so one parsed copy is kept per process and
each report starts from a deep copy of it.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import threading
from pathlib import Path
from typing import Any

from server.errors import ApiError
from server.reports.fonts import find_cjk_font

GENERATOR_VERSION = "1.0"
FONT = "cjk"

JOB_TYPES = {
    "safety_inspection": "安全检查 Safety inspection", "repair": "维修 Repair", "meter_work": "表具作业 Meter work",
    "installation": "安装 Installation", "complaint_visit": "投诉上门 Complaint visit",
    "hazard_rectification": "隐患整改 Hazard rectification", "emergency": "抢修 Emergency",
}
SEVERITY = {"critical": "重大 Critical", "major": "较大 Major", "minor": "一般 Minor"}
ANSWERS = {"pass": "合格 Pass", "fail": "不合格 Fail", "na": "不适用 N/A"}
METHODS = {"cash": "现金 Cash", "wechat": "微信 WeChat", "alipay": "支付宝 Alipay", "card": "银行卡 Card"}

_base: dict[Path, Any] = {}
_lock = threading.Lock()


def _fpdf_class() -> type:
    try:
        from fpdf import FPDF
    except ImportError:  # the ``reports`` extra is not installed
        raise ApiError(503, "reports_unavailable",
                       "service reports need fpdf2: install fieldsync with the 'reports' extra") from None
    return FPDF


def _blank_document() -> Any:
    """A new A4 document with the CJK font loaded (a copy of the process's parsed one)."""
    from fontTools import ttLib

    path = find_cjk_font()
    with _lock:
        if path not in _base:
            pdf = _fpdf_class()(format="A4")
            # .ttc collections: the first face is the regular one (WenQuanYi Micro Hei).
            pdf.add_font(FONT, fname=str(path), collection_font_number=0)
            _base[path] = pdf
        document = copy.deepcopy(_base[path])
    # fpdf2's deep copy shares the fontTools font, and writing the PDF subsets that font in place:
    # the next report would miss every glyph the first did not use. Each copy gets its own font,
    # opened lazily (cheap); the widths and cmap fpdf2 computed from the same file stay shared.
    document.fonts[FONT].ttfont = ttLib.TTFont(path, fontNumber=0, lazy=True, recalcTimestamp=False)
    return document


def _yuan(cents: int) -> str:
    return f"¥{cents / 100:,.2f}"


class _Writer:
    """Small layout helpers over one fpdf2 document."""

    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf

    def heading(self, text: str) -> None:
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_font(FONT, size=12)
        pdf.set_fill_color(230, 236, 244)
        pdf.cell(0, 7, text, fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9.5)
        pdf.ln(1)

    def line(self, text: str, size: float = 9.5) -> None:
        self.pdf.set_font(FONT, size=size)
        self.pdf.multi_cell(0, 5.2, text, new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, size=9.5)
        with pdf.table(col_widths=(58, 122), line_height=5.2, first_row_as_headings=False, borders_layout="NONE", text_align="LEFT",
                       padding=(0.4, 1, 0.4, 0)) as table:
            for label, value in rows:
                row = table.row()
                pdf.set_text_color(90, 90, 90)
                row.cell(label)
                pdf.set_text_color(0, 0, 0)
                row.cell(value or "—")

    def table(self, header: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[int, ...]) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, size=8.5)
        with pdf.table(col_widths=widths, line_height=4.8, first_row_as_headings=False,
                       padding=0.8) as table:
            head = table.row()
            for text in header:
                head.cell(text)
            for row in rows:
                cells = table.row()
                for text in row:
                    cells.cell(text)
        pdf.set_font(FONT, size=9.5)


def _visit(w: _Writer, data: dict[str, Any]) -> None:
    window, arrival = data["window"], data["arrival"]
    arrived = arrival["corrected"] or arrival["claimed"]
    note = ""
    if arrival["corrected"] and arrival["offset_s"]:
        note = f"（按平板时钟偏差 {arrival['offset_s']:+d} 秒校正 corrected by device clock offset; 平板记录 claimed {arrival['claimed']}）"
    verdict = {True: "准时 on time", False: "迟到 late", None: ""}[arrival["on_time"]]
    w.heading("上门时间 Visit times")
    w.pairs([
        ("预约时段 Agreed window", f"{window['start']} – {window['end'][-5:]}" if window["start"] else ""),
        ("到达 Arrival", " ".join(x for x in (arrived, verdict, note) if x)),
        ("开始施工 Work started", data["work_started_at"]),
        ("完成 Completed", data["completed_at"]),
    ])


def _checklist(w: _Writer, rows: list[dict[str, Any]]) -> None:
    w.heading("检查结果 Checklist results")
    if not rows:
        w.line("本次上门无检查项 No checklist on this visit.")
        return
    w.table(
        ("检查项 Item", "结果 Result", "备注 Note"),
        [(f"{r['label']} {r['label_en']}".strip(), f"{ANSWERS.get(r['value'], r['value'])} {r['unit']}".strip(), r["note"])
         for r in rows],
        (90, 45, 45),
    )
    templates = sorted({r["template"] for r in rows if r["template"]})
    if templates:
        w.line("检查表版本 Checklist version: " + ", ".join(templates), size=8)


def _hazards(w: _Writer, rows: list[dict[str, Any]]) -> None:
    w.heading("发现的隐患 Hazards found")
    if not rows:
        w.line("未发现隐患 No hazards found.")
        return
    w.table(
        ("等级 Severity", "隐患 Hazard", "已采取措施 Action taken", "整改期限 Rectify by"),
        [(SEVERITY.get(h["severity"], h["severity"]), h["description"], h["immediate_action"], h["rectify_by"])
         for h in rows],
        (28, 70, 46, 36),
    )
    w.line("请在整改期限前完成整改；整改后我们将上门确认。Please rectify before the deadline; we will visit to confirm.",
           size=8)


def _quotes(w: _Writer, quotes: list[dict[str, Any]], images: dict[str, bytes]) -> None:
    w.heading("客户确认的报价 Quote approved by the customer")
    if not quotes:
        w.line("本次上门无收费项目 No chargeable work on this visit.")
        return
    for quote in quotes:
        w.table(
            ("项目 Item", "数量 Qty", "单价 Unit price", "金额 Amount"),
            [(q["description"], f"{q['qty']} {q['unit']}", _yuan(q["unit_price_cents"]), _yuan(q["amount_cents"]))
             for q in quote["lines"]] + [("合计 Total", "", "", _yuan(quote["total_cents"]))],
            (86, 30, 32, 32),
        )
        w.pairs([("财产损坏风险 Risk of damage", quote["risk_note"]),
                 ("报价内容哈希 Quote content hash", quote["content_hash"])])
        signature = quote["signature"]
        if signature is None:
            w.line("注意：报价在客户签字后被修改，签字不再覆盖当前内容。"
                   "Note: the quote changed after the customer signed; the signature no longer covers it.")
            continue
        w.pairs([
            ("签字人 Signed by", f"{signature['signer_name']}  {signature['signed_at']}"),
            ("签字确认的内容哈希 Signed content hash", signature["content_hash"]),
            ("签名图像 SHA-256 Signature image", signature["image_sha256"]),
        ])
        image = images.get(signature["image_sha256"])
        if image is not None:
            w.pdf.image(io.BytesIO(image), x=w.pdf.l_margin + 48, w=50)
        else:
            w.line("（签名图像尚未上传到服务器 the signature image has not reached the server yet）", size=8)


def _cleanup_and_fees(w: _Writer, data: dict[str, Any]) -> None:
    w.heading("现场清理 Site cleanup")
    cleanup = data["cleanup"]
    if cleanup is None:
        w.line("无客户清理确认 No cleanup confirmation by the customer.")
    else:
        done = ", ".join(k for k, v in cleanup["checklist"].items() if v) or "—"
        w.pairs([("客户已确认 Confirmed by customer", f"{cleanup['confirmed_at']} ({cleanup['method']})"),
                 ("清理项目 Done", done)])
    w.heading("收取费用 Fees collected")
    if not data["fees"]:
        w.line("未收取费用 Nothing collected.")
        return
    w.table(
        ("时间 Time", "方式 Method", "收据号 Receipt", "金额 Amount"),
        [(f["collected_at"], METHODS.get(f["method"], f["method"]), f["receipt_no"], _yuan(f["amount_cents"]))
         for f in data["fees"]] + [("合计 Total", "", "", _yuan(sum(f["amount_cents"] for f in data["fees"])))],
        (50, 40, 50, 40),
    )


def render_service_report(data: dict[str, Any], images: dict[str, bytes]) -> bytes:
    """The PDF bytes of one visit's service report; ``images`` maps blob SHA-256 to bytes (signatures)."""
    pdf = _blank_document()
    created = dt.datetime.fromisoformat(data["document_date"])
    pdf.set_creation_date(created)
    pdf.set_producer(f"fieldsync service report {GENERATOR_VERSION}")
    pdf.set_creator("fieldsync")
    pdf.set_title(f"服务报告 Service report {data['job']['ref']}")
    pdf.set_lang("zh-CN")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    w = _Writer(pdf)
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 9, data["company"], new_x="LMARGIN", new_y="NEXT")
    w.line(f"上门服务报告 Home visit service report · {data['centre']}".rstrip(" ·"), size=11)
    job, customer, tech = data["job"], data["customer"], data["technician"]
    w.heading("工单 Work order")
    w.pairs([
        ("工单号 Job", f"{job['ref']}  {JOB_TYPES.get(job['job_type'], job['job_type'])}"),
        ("客户 Customer", f"{customer['name']}（户号 account {customer['account_no']}）"),
        ("地址 Address", customer["address"]),
        ("服务人员 Technician", f"{tech['name']}  工号 Staff no. {tech['staff_no']}"),
        ("内容 Work", job["description"]),
    ])
    _visit(w, data)
    _checklist(w, data["checklist"])
    _hazards(w, data["hazards"])
    _quotes(w, data["quotes"], images)
    _cleanup_and_fees(w, data)
    pdf.ln(3)
    w.line(f"本报告由系统根据现场同步的数据生成 Generated from the data synced from the visit · "
           f"fieldsync {GENERATOR_VERSION}", size=7.5)
    return bytes(pdf.output())
