from decimal import Decimal

from django.urls import reverse

from loyalty.models import Tier
from tests.factories import TierFactory


def _tier_data(program, **fields):
    return {"program": program.pk, "perks": "", **fields}


def test_admin_refuses_a_tier_earning_less_than_a_lower_one(client, admin_user, program):
    TierFactory(program=program, name="Silver", threshold=Decimal("100"), multiplier=Decimal("2"))
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:loyalty_tier_add"),
        _tier_data(program, name="Gold", threshold="500", multiplier="1.5"),
    )

    assert response.status_code == 200
    assert "Tier Gold (from 500) earns less (1.5x) than the lower tier Silver (2.00x)." in (
        response.content.decode()
    )
    assert not Tier.objects.filter(name="Gold").exists()


def test_admin_edits_a_tier_without_it_clashing_with_itself(client, admin_user, program):
    TierFactory(program=program, name="Silver", threshold=Decimal("100"), multiplier=Decimal("2"))
    gold = TierFactory(
        program=program, name="Gold", threshold=Decimal("500"), multiplier=Decimal("3")
    )
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:loyalty_tier_change", args=[gold.pk]),
        _tier_data(program, name="Gold plus", threshold="500", multiplier="3"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    gold.refresh_from_db()
    assert gold.name == "Gold plus"
