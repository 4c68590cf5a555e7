"""vCard files as phones export them: 2.1 with quoted-printable (UTF-8 and GB2312), 3.0 and 4.0."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.extensions import db
from pipeline.imports.contacts import CREATE, plan_file
from pipeline.imports.contacts_write import write_contacts
from tests.conftest import People
from tests.imports.conftest import contacts_by_name, qp, tags_of

ANDROID_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{family};{given};;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{full}\r\n"
    "TEL;CELL:138 0013 8000\r\n"
    "TEL;WORK;VOICE:010-8888 6666\r\n"
    "EMAIL;HOME:Zhang.SanFeng@Example.com\r\n"
    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{org};=E9=94=80=E5=94=AE=E9=83=A8\r\n"
    "END:VCARD\r\n"
)


def import_file(path: Path, owner) -> None:
    with plan_file(path, owner) as plan:
        assert not plan.bad_rows, plan.bad_rows
        write_contacts(plan, via="cli", actor=None, filename=path.name)
    db.session.commit()


def test_android_21_quoted_printable_with_soft_line_breaks(tmp_path: Path, people: People) -> None:
    full = "欧阳张三丰测试一个很长很长的中文名字"  # long enough for Android to wrap the encoded line
    card = ANDROID_21.format(family=qp("欧阳"), given=qp("张三丰"), full=qp(full), org=qp("上海华信科技有限公司"))
    assert "=\r\n" in card
    gb = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        f"FN;CHARSET=GB2312;ENCODING=QUOTED-PRINTABLE:{qp('李四', 'gb2312')}\r\n"
        "TEL;CELL;PREF:+86 139-1234-5678\r\nEND:VCARD\r\n"
    )
    path = tmp_path / "00001.vcf"
    path.write_bytes((card + gb).encode("ascii"))
    import_file(path, people.rep)
    found = contacts_by_name()
    zhang = found[full]
    assert (zhang.mobile, zhang.email) == ("+8613800138000", "zhang.sanfeng@example.com")
    assert zhang.phone == "+861088886666"
    assert zhang.account.name == "上海华信科技有限公司"
    assert found["李四"].mobile == "+8613912345678"


def test_vcard_30_and_40(tmp_path: Path, people: People) -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:李;娜;;;\r\nFN:李娜\r\nORG:北京远景咨询;\r\nTITLE:总经理\r\n"
        "TEL;TYPE=CELL,VOICE:+86 139 1234 5678\r\nEMAIL;TYPE=INTERNET:lina@yuanjing.com\r\n"
        "BDAY:1985-03-15\r\nCATEGORIES:重要客户,朋友\r\n"
        "ADR;TYPE=WORK:;;朝阳路1号;北京;北京;100020;中国\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:王五\r\nN:王;五;;;\r\n"
        "TEL;TYPE=cell;VALUE=uri:tel:+86-137-0000-1111\r\nEMAIL;TYPE=work:wang@x.cn\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Smith;John;;;\r\nTEL;TYPE=HOME:13600001111\r\nEND:VCARD\r\n"
    )
    path = tmp_path / "contacts.vcf"
    path.write_text(text, encoding="utf-8")
    with plan_file(path, people.rep) as plan:
        assert plan.kind == "vcard" and plan.counts[CREATE] == 3
        assert [r.line for r in plan.samples[CREATE]] == [1, 13, 20]  # each card's BEGIN line
    import_file(path, people.rep)
    found = contacts_by_name()
    lina = found["李娜"]
    assert (lina.title, lina.birthday, lina.account.name) == ("总经理", date(1985, 3, 15), "北京远景咨询")
    assert tags_of(lina) == ["朋友", "重要客户"]
    assert "朝阳路1号" in lina.address
    assert found["王五"].mobile == "+8613700001111"
    assert found["John Smith"].mobile == "+8613600001111"  # no CELL type: the first number is the mobile


def test_a_broken_card_is_a_bad_row_named_by_its_line(tmp_path: Path, people: People) -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:好人\r\nTEL;TYPE=CELL:13800138000\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:坏人\r\nTEL;TYPE=CELL:12\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nthis line is not a property\r\nEND:VCARD\r\n"
    )
    path = tmp_path / "x.vcf"
    path.write_text(text, encoding="utf-8")
    with plan_file(path, people.rep) as plan:
        assert [r.line for r in plan.bad_rows] == [6, 11]
        assert plan.counts[CREATE] == 1
