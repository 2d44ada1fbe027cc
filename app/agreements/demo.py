"""Demo agreements for ``flask seed-demo``: deterministic (``random.Random``).

Scale "small" makes a few dozen agreements with their payouts through the ORM, so they
get audit, outbox and change-log rows like any record. Scale "county" makes three years
of a busy county (about 1,500 agreements and 6,000 payouts) with bulk Core inserts: the
rows carry id, version 1, owner and origin node, stamps and empty field_versions, but no
audit, outbox or change-log rows are written for them (the lead's "send everything"
path covers sending them upstream).
"""
import random
from datetime import date, timedelta

from sqlalchemy import insert, select

from app.core.extensions import db
from app.models import Agreement, AgreementParty, Cluster, Commissioner, Payout, ServiceTarget
from app.models.base import new_id, utcnow

TITLES = {
    "technology_equity": "{cluster}技术入股合作协议", "asset_equity": "{cluster}设施资产入股协议",
    "capital_equity": "{cluster}资金入股协议", "ip_equity": "{cluster}新品种及专利作价入股协议",
    "tech_contracting": "{cluster}全程技术承包协议", "paid_service": "{cluster}有偿技术服务协议",
}
FORM_WEIGHTS = {"technology_equity": 30, "asset_equity": 8, "capital_equity": 10, "ip_equity": 7,
                "tech_contracting": 20, "paid_service": 25}
PROFIT_TERMS = ["按股比于每年12月分红，保底收益不低于入股作价的5%", "按年度净利润的约定比例分配",
                "每亩增产部分按三七分成", "服务费按季度支付", "按出栏数量每只提成"]
RISK_TERMS = ["因自然灾害造成损失按股比共担", "技术原因造成损失由特派员承担主要责任",
              "市场风险按股比共担，特派员以入股作价为限", "不可抗力免责"]
IP_TERMS = ["知识产权归科技特派员所有，合作社享有使用权", "归双方共有", "归合作社所有", ""]
NOTES = ["", "", "由旗科技局见证", "续签协议"]


def _plan(rng: random.Random, count: int, commissioners, targets, clusters, today: date):
    """Agreement rows, party rows and payout rows (plain dicts), three years back."""
    agreements, parties, payouts = [], [], []
    numbers: dict[int, int] = {}
    forms = list(FORM_WEIGHTS)
    for _ in range(count):
        form = rng.choices(forms, list(FORM_WEIGHTS.values()))[0]
        cluster = rng.choice(clusters)
        signed = today - timedelta(days=rng.randrange(5, 3 * 365))
        starts = signed + timedelta(days=rng.randrange(0, 45))
        ends = starts + timedelta(days=365 * rng.choice((1, 2, 3, 3, 5)) - 1)
        roll = rng.random()
        status, terminated, reason = "in_force", None, ""
        if roll < 0.04:
            status, signed, starts = "draft", None, None
        elif starts > today:
            status = "signed"
        elif ends < today:
            status = "ended" if roll > 0.08 else "in_force"  # a few left marked in force
        elif roll < 0.10:
            status = "terminated"
            terminated = starts + timedelta(days=rng.randrange(30, max(31, (today - starts).days)))
            terminated = min(terminated, today)
            reason = rng.choice(["合作社经营困难，双方协商解除", "特派员工作调动", "项目用地调整"])
        year = (signed or today).year
        numbers[year] = numbers.get(year, 0) + 1
        equity = form.endswith("equity")
        aid = new_id()
        agreements.append({
            "id": aid, "number": f"LY{year}-{numbers[year]:04d}",
            "title": TITLES[form].format(cluster=cluster.name), "form": form,
            "counterpart_id": rng.choice(targets).id, "cluster_id": cluster.id,
            "valuation_fen": rng.randrange(50_000, 2_000_000) * 100 + rng.randrange(100)
            if equity else None,
            "stake_bp": rng.randrange(500, 4000, 50) if equity else None,
            "profit_basis": rng.choice(["by_share", "fixed", "by_output"]),
            "profit_terms": rng.choice(PROFIT_TERMS), "risk_basis": rng.choice(["by_share", "fixed"]),
            "risk_terms": rng.choice(RISK_TERMS), "ip_ownership": rng.choice(IP_TERMS),
            "signed_on": signed, "starts_on": starts, "ends_on": ends, "status": status,
            "terminated_on": terminated, "termination_reason": reason, "notes": rng.choice(NOTES)})
        people = rng.sample(commissioners, rng.choices((1, 2, 3), (70, 22, 8))[0])
        shares = _shares(rng, len(people))
        for person, share in zip(people, shares, strict=False):
            parties.append({"id": new_id(), "agreement_id": aid, "commissioner_id": person.id,
                            "share_bp": share})
        if status in ("draft", "signed"):
            continue
        last = min(today, terminated or ends)
        span = (last - starts).days
        for _ in range(rng.choices((0, 2, 4, 5, 8), (6, 20, 30, 24, 20))[0] if span > 30 else 0):
            kind = rng.choices(["dividend", "service_fee", "transfer_fee", "other"],
                               [50 if equity else 10, 10 if equity else 60, 8, 5])[0]
            payouts.append({
                "id": new_id(), "agreement_id": aid,
                "paid_on": starts + timedelta(days=rng.randrange(span + 1)),
                "amount_fen": rng.randrange(500, 80_000) * 100 + rng.choice((0, 0, 50, rng.randrange(100))),
                "kind": kind, "payee_id": rng.choices(people, shares)[0].id,
                "note": rng.choice(["", "", "银行转账", "现金，已签收"]), "out_of_term_reason": ""})
    return agreements, parties, payouts


def _shares(rng: random.Random, n: int) -> list[int]:
    """``n`` shares in basis points adding up to exactly 10000."""
    if n == 1:
        return [10000]
    cuts = sorted(rng.sample(range(100, 9900, 100), n - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [10000], strict=False)]


def seed_agreements(scale: str, code: str) -> dict:
    """Add the demo agreements of the station ``code``; returns what was made."""
    rng = random.Random(5150121)
    today = date.today()
    commissioners = db.session.scalars(select(Commissioner).where(
        Commissioner.owner_node == code).order_by(Commissioner.name, Commissioner.id)).all()
    targets = db.session.scalars(select(ServiceTarget).where(
        ServiceTarget.owner_node == code).order_by(ServiceTarget.name, ServiceTarget.id)).all()
    clusters = db.session.scalars(select(Cluster).order_by(Cluster.sort_order)).all()
    if not commissioners or not targets:
        return {}
    businesses = [t for t in targets if t.kind != "household"] or targets
    chosen = businesses * 3 + targets  # co-ops and enterprises are the usual counterparts
    count = {"small": 30, "county": 1500}[scale]
    agreements, parties, payouts = _plan(rng, count, commissioners, chosen, clusters, today)
    if scale == "small":
        for rows, model in ((agreements, Agreement), (parties, AgreementParty), (payouts, Payout)):
            db.session.add_all(model(owner_node=code, **row) for row in rows)
            db.session.flush()  # parents before children, in the outbox too
        db.session.commit()
    else:
        now = utcnow()
        stamps = {"version": 1, "created_at": now, "updated_at": now, "created_by": "seed-demo",
                  "updated_by": "seed-demo", "origin_node": code, "owner_node": code,
                  "deleted_at": None, "field_versions": {}}
        for rows, model in ((agreements, Agreement), (parties, AgreementParty), (payouts, Payout)):
            for start in range(0, len(rows), 2000):
                db.session.execute(insert(model), [{**row, **stamps} for row in rows[start:start + 2000]])
        db.session.commit()
    return {"agreements": len(agreements), "payouts": len(payouts)}

