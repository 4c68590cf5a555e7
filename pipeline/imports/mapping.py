"""Which column holds which field: guessed from common Chinese and English headers, overridable by the user."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from pipeline.core.errors import InvalidInput

# Field → the headers that mean it, as phones, Excel sheets and other CRMs (Salesforce, HubSpot, Pipedrive,
# 纷享销客, 销售易) write them; compared after NFKC, case folding and removing spaces and punctuation.
CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "姓名",
        "名字",
        "联系人",
        "联系人姓名",
        "客户姓名",
        "全名",
        "显示名称",
        "Name",
        "Full Name",
        "Contact",
        "Contact Name",
        "Display Name",
    ),
    "first_name": ("名", "First Name", "Given Name", "FirstName"),
    "last_name": ("姓", "Last Name", "Family Name", "Surname", "LastName"),
    "mobile": (
        "手机",
        "手机号",
        "手机号码",
        "移动电话",
        "手机号码1",
        "Mobile",
        "Mobile Phone",
        "Mobile Number",
        "Cell",
        "Cell Phone",
        "Cellphone",
    ),
    "phone": (
        "电话",
        "办公电话",
        "座机",
        "固定电话",
        "工作电话",
        "单位电话",
        "Phone",
        "Telephone",
        "Work Phone",
        "Business Phone",
        "Office Phone",
    ),
    "company": (
        "公司",
        "单位",
        "公司名称",
        "客户",
        "客户名称",
        "工作单位",
        "企业名称",
        "所属公司",
        "Company",
        "Company Name",
        "Organization",
        "Organisation",
        "Account",
        "Account Name",
        "Org",
    ),
    "email": (
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "邮箱地址",
        "E-mail",
        "Email",
        "Email Address",
        "E-mail Address",
        "Mail",
    ),
    "title": ("职位", "职务", "头衔", "Title", "Job Title", "Position"),
    "address": ("地址", "联系地址", "通讯地址", "公司地址", "Address", "Mailing Address", "Street"),
    "birthday": ("生日", "出生日期", "Birthday", "Birthdate", "Date of Birth", "DOB"),
    "notes": ("备注", "说明", "Notes", "Note", "Comments", "Description"),
    "tags": ("分组", "标签", "群组", "Groups", "Group", "Group Membership", "Tags", "Tag", "Categories"),
}

DEAL_HEADERS: dict[str, tuple[str, ...]] = {
    "title": (
        "商机名称",
        "商机",
        "项目名称",
        "Deal Name",
        "Opportunity Name",
        "Opportunity",
        "Deal Title",
        "Deal",
        "Title",
        "Name",
    ),
    "amount": ("金额", "商机金额", "合同金额", "Amount", "Deal Value", "Value", "Opportunity Amount", "Deal Amount"),
    "stage": ("阶段", "销售阶段", "商机阶段", "Stage", "Deal Stage", "Opportunity Stage", "Status"),
    "close_date": (
        "成交日期",
        "预计成交日期",
        "结单日期",
        "Close Date",
        "Expected Close Date",
        "Closed Date",
        "Won Time",
        "Lost Time",
        "Close Time",
    ),
    "account": (
        "客户",
        "客户名称",
        "公司",
        "公司名称",
        "Account",
        "Account Name",
        "Company",
        "Company Name",
        "Organization",
        "Organization Name",
        "Associated Company",
    ),
    "owner": ("负责人", "销售", "所有人", "Owner", "Deal Owner", "Opportunity Owner", "Owner Email"),
    "created": (
        "创建日期",
        "创建时间",
        "Created",
        "Created Date",
        "Create Date",
        "Deal Created",
        "Add Time",
        "Created Time",
    ),
    "lost_reason": ("输单原因", "丢单原因", "Lost Reason", "Loss Reason", "Closed Lost Reason", "Reason Lost"),
    "external_id": ("External ID", "Opportunity ID", "Deal ID", "Record ID", "ID", "编号", "商机编号", "商机ID"),
    "currency": ("币种", "货币", "Currency", "Currency Code", "Opportunity Currency"),
}

_PUNCTUATION = re.compile(r"[\s\-_.:/()（）·]+")


def header_key(text: str) -> str:
    """A header as compared: full-width folded (NFKC), case folded, without spaces and punctuation."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text)).casefold()


def auto_map(headers: Sequence[str], known: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Field → column index for every field whose header is recognised; the leftmost column wins."""
    index = {header_key(h): i for i, h in reversed(list(enumerate(headers))) if header_key(h)}
    found: dict[str, int] = {}
    taken: set[int] = set()
    for field, names in known.items():
        for name in names:
            column = index.get(header_key(name))
            if column is not None and column not in taken:
                found[field] = column
                taken.add(column)
                break
    return found


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`field=Column` strings (from --map) as a dict; a pair without "=" is refused naming it."""
    wanted: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip():
            raise InvalidInput({"map": f"{pair!r} is not field=Column"})
        wanted[field.strip()] = column.strip()
    return wanted


def apply_overrides(
    found: dict[str, int], headers: Sequence[str], overrides: Mapping[str, str], known: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    """The mapping with the user's choices: a column by its header (or 1-based number), "" to leave a field out."""
    mapping = dict(found)
    errors: dict[str, str] = {}
    keys = {header_key(h): i for i, h in reversed(list(enumerate(headers)))}
    for field, column in overrides.items():
        if field not in known:
            errors[field] = f"unknown field; one of {', '.join(known)}"
            continue
        if not column:
            mapping.pop(field, None)
            continue
        if column in headers:
            index = list(headers).index(column)
        elif header_key(column) in keys:
            index = keys[header_key(column)]
        elif column.isdigit() and 1 <= int(column) <= len(headers):
            index = int(column) - 1
        else:
            errors[field] = f"no column {column!r} (columns: {', '.join(h for h in headers if h) or 'none'})"
            continue
        for other, i in list(mapping.items()):  # a column feeds one field: the user's choice takes it over
            if i == index and other != field and other not in overrides:
                del mapping[other]
        mapping[field] = index
    if errors:
        raise InvalidInput({f"map {k}": v for k, v in errors.items()})
    return mapping
