import re
def test_x(browser, people):
    r = browser(people.rep).post("/accounts/new", data={"name": "某公司", "kind": "b2b", "owner_id": people.rep_b.id})
    print(re.findall(r'field-error[^>]*>(.*?)<', r.text))
    r = browser(people.rep).post("/accounts/new", data={"name": "某公司", "kind": "b2b", "owner_id": 'abc'})
    print(r.status_code, re.findall(r'field-error[^>]*>(.*?)<', r.text))
