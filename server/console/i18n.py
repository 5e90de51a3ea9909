"""The console's message catalogue: Simplified Chinese by default, English selectable.

``t(key, **values)`` looks a key up in the language of the request (the session, else the
``console_lang`` cookie, else zh-CN). Keys are short English phrases so templates stay readable.
Enum values (job status, type, category...) are looked up as ``"<enum>.<value>"``.
"""

from __future__ import annotations

from flask import has_request_context, request, session

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
COOKIE = "console_lang"

# key -> (Chinese, English). English falls back to the key itself when the pair has one entry.
CATALOGUE: dict[str, tuple[str, str]] = {
    # Frame
    "app.title": ("燃气外勤调度台", "Field service console"),
    "nav.board": ("日程看板", "Day board"),
    "nav.map": ("路线图", "Route map"),
    "nav.intake": ("热线受理", "Hotline intake"),
    "nav.clocks": ("时限监控", "Clocks"),
    "nav.conflicts": ("同步冲突", "Conflicts"),
    "nav.households": ("用户档案", "Households"),
    "sign in": ("登录", "Sign in"),
    "sign out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "language": ("语言", "Language"),
    "signed in as": ("当前用户", "Signed in as"),
    "csrf refused": ("表单已过期或来源不明，请刷新页面后重试。", "The form expired or did not come from this console; reload the page and try again."),
    "login.needs role": ("调度台仅限调度员、客服和管理员使用。", "The console is for dispatchers, customer service and administrators."),
    "login.failed": ("用户名或密码错误。", "Unknown username or wrong password."),
    "login.throttled": ("登录失败次数过多，请稍后再试。", "Too many failed sign-ins; try again later."),
    "page not found": ("找不到该页面或记录。", "That page or record does not exist."),
    "forbidden": ("您的角色不能执行此操作。", "Your role may not do this."),
    "refused": ("操作被拒绝", "Refused"),
    "done": ("已完成", "Done"),
    "save": ("保存", "Save"),
    "cancel": ("取消", "Cancel"),
    "close": ("关闭", "Close"),
    "search": ("搜索", "Search"),
    "date": ("日期", "Date"),
    "today": ("今天", "Today"),
    "prev day": ("前一天", "Previous day"),
    "next day": ("后一天", "Next day"),
    "none": ("无", "none"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # Board
    "board.title": ("{date} 日程看板", "Day board for {date}"),
    "board.technicians": ("技术员", "Technicians"),
    "board.unassigned": ("待派工单", "Unassigned jobs"),
    "board.no unassigned": ("没有待派的工单。", "No unassigned jobs."),
    "board.no technicians": ("没有在岗技术员。", "No active technicians."),
    "board.no window": ("未约时间", "No window"),
    "board.jobs count": ("{n} 单", "{n} job(s)"),
    "board.legend": ("图例", "Legend"),
    "special care": ("特殊关怀", "Special care"),
    "special care short": ("关怀", "Care"),
    "job": ("工单", "Job"),
    "customer": ("用户", "Customer"),
    "address": ("地址", "Address"),
    "window": ("预约时段", "Window"),
    "window start": ("开始", "Start"),
    "window end": ("结束", "End"),
    "technician": ("技术员", "Technician"),
    "status": ("状态", "Status"),
    "type": ("类型", "Type"),
    "priority": ("优先级", "Priority"),
    "route order": ("路线顺序", "Route order"),
    "required certifications": ("所需资质", "Required certifications"),
    "assign": ("派工", "Assign"),
    "reassign": ("改派", "Reassign"),
    "unassign": ("撤回派工", "Unassign"),
    "change window": ("改约时段", "Change window"),
    "move earlier": ("前移", "Move earlier"),
    "move later": ("后移", "Move later"),
    "choose technician": ("选择技术员", "Choose a technician"),
    "assigned": ("已派给 {name}", "Assigned to {name}"),
    "unassigned ok": ("已撤回派工", "Unassigned"),
    "window changed": ("时段已改为 {window}", "Window changed to {window}"),
    "reordered": ("路线顺序已更新", "Route order updated"),
    "job detail": ("工单详情", "Job detail"),
    "actions unavailable": ("派工服务尚未就绪：看板为只读。", "The assignment service is not available yet: the board is read-only."),
    # Map
    "map.title": ("{date} 路线图", "Routes for {date}"),
    "map.start": ("出发点", "Start"),
    "map.no coordinates": ("没有坐标可画。", "No coordinates to draw."),
    "map.stops": ("{n} 站", "{n} stops"),
    # Intake
    "intake.title": ("热线来电受理", "Hotline call intake"),
    "intake.caller": ("来电人", "Caller"),
    "intake.phone": ("来电号码", "Phone"),
    "intake.reason": ("来电事由", "Reason"),
    "intake.category": ("来电类别", "Category"),
    "intake.customer lookup": ("查找用户（户号、姓名、电话或地址）", "Find the customer (account, name, phone or address)"),
    "intake.no customer": ("未找到匹配的用户。", "No matching customer."),
    "intake.chosen": ("已选用户", "Chosen customer"),
    "intake.job type": ("工单类型", "Job type"),
    "intake.no job": ("不派工单（仅答复）", "No job (answer only)"),
    "intake.fault kind": ("故障归属", "Fault kind"),
    "intake.create": ("生成工单", "Create the work order"),
    "intake.created": ("已受理：来电已登记，工单 {ref} 已生成。", "Taken: call recorded, job {ref} created."),
    "intake.call only": ("已受理：来电已登记（无工单）。", "Taken: call recorded (no job)."),
    "intake.answer by": ("答复期限", "Answer by"),
    "intake.respond by": ("6 小时响应期限", "Respond within 6 h by"),
    "intake.fix by": ("24 小时修复期限", "Repair within 24 h by"),
    "intake.priority auto": ("按规则自动", "Automatic (by the rules)"),
    "intake.next call": ("受理下一个来电", "Take the next call"),
    "intake.to board": ("去看板派工", "Assign on the board"),
    "intake.unavailable": ("受理服务尚未就绪，暂不能登记来电。", "The intake service is not available yet; calls cannot be recorded."),
    # Clocks
    "clocks.title": ("时限监控", "Clocks"),
    "clocks.repairs": ("抢修时限（R8：6 小时响应、24 小时修复）", "Repair SLA (R8: respond 6 h, repair 24 h)"),
    "clocks.calls": ("热线答复时限（R9：一般 4 小时，特殊 24 小时）", "Hotline answers (R9: 4 h ordinary, 24 h special)"),
    "clocks.complaints": ("投诉答复时限（R10：5 个工作日）", "Complaints (R10: 5 working days)"),
    "clocks.late": ("迟到（R1）", "Late arrivals (R1)"),
    "clocks.short notice": ("不足 2 小时通知的改约/取消（R2）", "Changes with less than 2 h notice (R2)"),
    "clocks.left": ("剩余 {left}", "{left} left"),
    "clocks.overdue": ("已超时 {late}", "overdue by {late}"),
    "clocks.met": ("已达成", "met"),
    "clocks.breached": ("已违约", "breached"),
    "clocks.working days left": ("剩余 {n} 个工作日", "{n} working days left"),
    "clocks.working days late": ("超期 {n} 个工作日", "{n} working days late"),
    "clocks.nothing": ("暂无。", "Nothing here."),
    "clocks.respond": ("响应", "Respond"),
    "clocks.fix": ("修复", "Repair"),
    "clocks.answer": ("答复", "Answer"),
    "clocks.extended": ("已延期至 {when}", "extended to {when}"),
    "clocks.arrived": ("到达", "Arrived"),
    "clocks.not arrived": ("未到达", "Not arrived"),
    "clocks.minutes late": ("迟到 {n} 分钟", "{n} min late"),
    "clocks.notice": ("提前 {n} 分钟通知", "{n} min notice"),
    "clocks.notified": ("已通知用户", "Customer notified"),
    "clocks.not notified": ("无通知记录", "No notification recorded"),
    "clocks.reason": ("原因", "Reason"),
    "clocks.caller": ("来电人", "Caller"),
    "clocks.complainant": ("投诉人", "Complainant"),
    "clocks.confidential": ("保密", "Confidential"),
    # Conflicts
    "conflicts.title": ("同步冲突", "Sync conflicts"),
    "conflicts.field": ("字段", "Field"),
    "conflicts.device value": ("平板的值", "Device value"),
    "conflicts.server value": ("服务器的值", "Server value"),
    "conflicts.rule": ("适用规则", "Rule applied"),
    "conflicts.who": ("由谁处理", "Who must look"),
    "conflicts.resolve": ("处理", "Resolve"),
    "conflicts.resolved": ("已处理", "Resolved"),
    "conflicts.open": ("待处理", "Open"),
    "conflicts.none": ("没有待处理的冲突。", "No open conflicts."),
    "conflicts.unavailable": (
        "同步服务尚未提供冲突记录（sync_conflict 表不存在），此页暂无数据。",
        "The sync service does not record conflicts yet (no sync_conflict table), so this page has nothing to show.",
    ),
    "conflicts.read only": (
        "同步服务尚未提供处理功能：此处仅显示 sync_conflict 表中的冲突。",
        "The sync service offers no resolve action yet: this page only shows the sync_conflict table.",
    ),
    "conflicts.resolution.keep_server": ("保留服务器的值", "Keep the server's value"),
    "conflicts.resolution.take_device": ("采用平板的值", "Take the device's value"),
    "conflicts.resolution.custom": ("另设值", "Set another value"),
    "role.dispatcher": ("调度员", "Dispatcher"),
    "role.technician": ("技术员", "Technician"),
    "role.customer_service": ("客服", "Customer service"),
    "role.admin": ("管理员", "Administrator"),
    "conflicts.acknowledge": ("知悉（保留服务器的值）", "Acknowledge (keep the server's value)"),
    "conflicts.note": ("处理说明", "Resolution note"),
    # Households
    "households.title": ("用户档案", "Households"),
    "households.search": ("户号、姓名、电话或地址", "Account, name, phone or address"),
    "households.special care register": ("特殊关怀登记（R11）", "Special-care register (R11)"),
    "households.meters due": ("到期待检定的燃气表（R15）", "Meters due for calibration (R15)"),
    "households.hazards": ("未整改的隐患（R16）", "Open hazards (R16)"),
    "households.results": ("搜索结果", "Results"),
    "households.none": ("没有匹配的用户。", "No matching household."),
    "household.file": ("一户一档", "Household file"),
    "household.account": ("户号", "Account"),
    "household.category": ("用户类别", "Category"),
    "household.phone": ("电话", "Phone"),
    "household.contacts": ("联系人", "Contacts"),
    "household.premises": ("用气地址", "Premises"),
    "household.meters": ("燃气表", "Meters"),
    "household.appliances": ("燃气器具", "Appliances"),
    "household.visits": ("上门记录", "Visits"),
    "household.hazards": ("隐患", "Hazards"),
    "household.signatures": ("签字记录", "Signatures"),
    "household.notes": ("备注", "Notes"),
    "household.id number": ("证件号", "ID number"),
    "household.next inspection": ("下次安检", "Next inspection"),
    "household.interval": ("每 {n} 个月", "every {n} months"),
    "hazard.rectify": ("生成整改工单", "Create rectification job"),
    "meter.serial": ("表号", "Serial"),
    "meter.due": ("检定到期", "Calibration due"),
    "meter.overdue": ("已过期 {n} 天", "{n} days overdue"),
    "meter.due in": ("{n} 天后到期", "due in {n} days"),
    "hazard.severity": ("等级", "Severity"),
    "hazard.deadline": ("整改期限", "Rectify by"),
    "hazard.owner": ("整改责任方", "Owner"),
    "hazard.found": ("发现时间", "Found"),
    "signature.purpose": ("签字用途", "Purpose"),
    "signature.signer": ("签字人", "Signer"),
    "signature.at": ("签字时间", "Signed at"),
    # Enums
    "job_status.new": ("新建", "New"),
    "job_status.scheduled": ("已排期", "Scheduled"),
    "job_status.dispatched": ("已派工", "Dispatched"),
    "job_status.en_route": ("在途", "En route"),
    "job_status.on_site": ("已到场", "On site"),
    "job_status.in_progress": ("作业中", "In progress"),
    "job_status.completed": ("已完成", "Completed"),
    "job_status.could_not_complete": ("未能完成", "Could not complete"),
    "job_status.closed": ("已关闭", "Closed"),
    "job_status.cancelled": ("已取消", "Cancelled"),
    "job_type.safety_inspection": ("安全检查", "Safety inspection"),
    "job_type.repair": ("维修", "Repair"),
    "job_type.meter_work": ("表具作业", "Meter work"),
    "job_type.installation": ("安装", "Installation"),
    "job_type.complaint_visit": ("投诉回访", "Complaint visit"),
    "job_type.hazard_rectification": ("隐患整改", "Hazard rectification"),
    "job_type.emergency": ("抢险", "Emergency"),
    "priority.1": ("紧急", "Emergency"),
    "priority.2": ("加急", "Urgent"),
    "priority.3": ("普通", "Normal"),
    "priority.4": ("低", "Low"),
    "call_category.question": ("一般咨询", "Question"),
    "call_category.special": ("特殊事项", "Special case"),
    "call_category.repair": ("报修", "Repair"),
    "call_category.emergency": ("抢险（漏气）", "Emergency (gas smell)"),
    "call_category.complaint": ("投诉", "Complaint"),
    "fault_kind.network": ("管网故障", "Network fault"),
    "fault_kind.customer_equipment": ("用户设施故障", "Customer equipment"),
    "customer_category.residential": ("居民", "Residential"),
    "customer_category.commercial": ("商业", "Commercial"),
    "customer_category.industrial": ("工业", "Industrial"),
    "customer_category.heating": ("采暖", "Heating"),
    "hazard_severity.critical": ("重大", "Critical"),
    "hazard_severity.major": ("较大", "Major"),
    "hazard_severity.minor": ("一般", "Minor"),
    "hazard_status.open": ("未整改", "Open"),
    "hazard_status.rectification_scheduled": ("已安排整改", "Rectification scheduled"),
    "hazard_status.fixed": ("已整改", "Fixed"),
    "meter_status.active": ("在用", "Active"),
    "meter_status.faulty": ("故障", "Faulty"),
    "meter_status.removed": ("已拆除", "Removed"),
    "signature_purpose.quote_approval": ("同意报价", "Quote approved"),
    "signature_purpose.quote_refusal": ("拒绝报价", "Quote refused"),
    "signature_purpose.cleanup": ("清场确认", "Cleanup confirmed"),
    "owner.customer": ("用户", "Customer"),
    "owner.company": ("燃气公司", "Gas company"),
    # Refusal reasons from the service functions, shown above the service's own message.
    "reason.not_qualified": ("技术员没有该工单所需的有效资质（R14）", "The technician lacks a valid certification the job needs (R14)"),
    "reason.conflict_of_interest": ("该技术员与投诉有直接利害关系，不得处理（R10）", "The technician has a direct interest in the complaint and must not handle it (R10)"),
    "reason.illegal_transition": ("工单当前状态不允许此操作", "The job's status does not allow this"),
    "reason.validation_error": ("输入有误", "Invalid input"),
    "reason.not_found": ("记录不存在", "Not found"),
}


def language() -> str:
    """The language of the current request: session, then cookie, then zh-CN."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    lang = session.get("lang") or request.cookies.get(COOKIE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **values: object) -> str:
    """The text for ``key`` in the request's language, with ``{name}`` placeholders filled in."""
    pair = CATALOGUE.get(key)
    text = key if pair is None else pair[0] if language() == "zh-CN" else pair[1]
    return text.format(**values) if values else text


def label(enum_name: str, value: object) -> str:
    """The display name of an enum value, e.g. ``label("job_status", JobStatus.NEW)``."""
    raw = getattr(value, "value", value)
    key = f"{enum_name}.{raw}"
    return t(key) if key in CATALOGUE else str(raw)


def reason_text(reason: str) -> str | None:
    """A localised headline for a service refusal reason, when the catalogue has one."""
    key = f"reason.{reason}"
    return t(key) if key in CATALOGUE else None
