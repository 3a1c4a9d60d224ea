"""What the demo book is made of: logins, segments, products, names, places and the words
interactions are written in. Plain data; `generate` draws from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from customers.models import CustomerStatus, Stage

ADMIN_PASSWORD = "demo-admin-pass"  # noqa: S105 - published demo logins, shown by `make run`
MANAGER_PASSWORD = "demo-manager-pass"  # noqa: S105
CUSTOMER_PASSWORD = "demo-customer-pass"  # noqa: S105

BENCH_CUSTOMER_NAME = "Benchmark Heavy Customer"
BENCH_HISTORY = 500  # purchases, and as many interactions: 1,000 history rows
PORTAL_CUSTOMER_NAME = "Carmen Customer"

STAGES = list(Stage.values)  # lowest rung first
STATUSES = [CustomerStatus.ACTIVE, CustomerStatus.INACTIVE, CustomerStatus.DEFECTED]
HISTORY_DAYS = 3 * 365


def _words(text: str) -> list[str]:
    return text.split()


@dataclass(frozen=True)
class SegmentSpec:
    name: str
    description: str
    inactivity_days: int
    share: float  # of the book
    organisations: float  # share of organisations (the rest are persons)
    stage_probs: tuple[float, ...]  # prospect .. partner
    price_scale: float  # multiplies catalogue prices
    purchase_weight: float  # relative purchase frequency
    interaction_weight: float  # relative contact frequency
    managed: float  # share with an account manager
    products: tuple[int, ...]  # indexes into CATALOGUE


CATALOGUE = [
    # product, category, base price (EUR)
    ("Starter licence", "software", 49.0),
    ("Team licence", "software", 390.0),
    ("Enterprise licence", "software", 4_800.0),
    ("Support plan", "services", 1_200.0),
    ("Onboarding workshop", "training", 950.0),
    ("Online course", "training", 89.0),
    ("Consulting day", "services", 1_100.0),
    ("Hardware kit", "hardware", 640.0),
    ("Spare parts", "hardware", 75.0),
    ("Gift card", "retail", 50.0),
    ("Day tour", "travel", 120.0),
    ("City pass", "travel", 65.0),
    ("Souvenir box", "retail", 35.0),
    ("Subscription box", "retail", 29.0),
    ("Co-marketing package", "partnership", 2_500.0),
    ("Reseller bundle", "partnership", 3_900.0),
]

# fmt: off
SEGMENTS = [
    SegmentSpec(
        name="Enterprise",
        description="Large accounts with a dedicated account manager. Relationship: long-term, "
        "dedicated personal assistance.",
        inactivity_days=365, share=0.08, organisations=1.0,
        stage_probs=(0.12, 0.22, 0.28, 0.18, 0.12, 0.08),
        price_scale=1.6, purchase_weight=1.6, interaction_weight=2.2, managed=1.0,
        products=(2, 3, 4, 6, 7),
    ),
    SegmentSpec(
        name="SMB",
        description="Small and medium businesses. Relationship: personal assistance and "
        "self-service.",
        inactivity_days=180, share=0.22, organisations=0.9,
        stage_probs=(0.25, 0.30, 0.23, 0.11, 0.07, 0.04),
        price_scale=1.0, purchase_weight=1.2, interaction_weight=1.3, managed=0.95,
        products=(1, 3, 4, 5, 7, 8),
    ),
    SegmentSpec(
        name="Consumers",
        description="Private customers. Relationship: automated services, communities, "
        "loyalty program.",
        inactivity_days=120, share=0.45, organisations=0.0,
        stage_probs=(0.30, 0.32, 0.20, 0.10, 0.06, 0.02),
        price_scale=1.0, purchase_weight=1.0, interaction_weight=0.8, managed=0.9,
        products=(0, 5, 8, 9, 13),
    ),
    SegmentSpec(
        name="Tourists — one-off",
        description="Visitors who buy once. Relationship: transactional; one purchase is a "
        "success, not a defection.",
        inactivity_days=730, share=0.17, organisations=0.0,
        stage_probs=(0.15, 0.80, 0.05, 0.0, 0.0, 0.0),
        price_scale=1.0, purchase_weight=0.15, interaction_weight=0.3, managed=0.0,
        products=(9, 10, 11, 12),
    ),
    SegmentSpec(
        name="Partners",
        description="Resellers and co-marketing partners. Relationship: co-creation and "
        "communities.",
        inactivity_days=365, share=0.08, organisations=1.0,
        stage_probs=(0.05, 0.10, 0.20, 0.20, 0.20, 0.25),
        price_scale=1.2, purchase_weight=1.4, interaction_weight=1.8, managed=1.0,
        products=(1, 3, 14, 15),
    ),
]
# fmt: on
SEGMENT_SHARES = np.array([s.share for s in SEGMENTS])

MANAGERS = [
    ("alice", "Alice", "Andersen", 0.40),
    ("bob", "Bob", "Berger", 0.35),
    ("chris", "Chris", "Chen", 0.25),
]
TAGS = _words(
    """
    vip newsletter referral trade-fair needs-training beta-tester price-sensitive
    key-account community eco-conscious
    """
)

FIRST_NAMES = _words(
    """
    Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Karin Lars Maja Nils Olga Paul Rosa
    Sven Tara Ulrich Vera Wim Xenia Yusuf Zoe Amir Bianca Carlos Dana Erik Fatima Gabriel
    Hannah Ivan Julia Kofi Lena Marco Nora Oscar Priya Quentin Rita Samuel Tomas Ulla Victor
    Wanda Yara Zain Leila Mateo Sofia Arjun Mei Noah Elif Jakob Ines
    """
)
LAST_NAMES = _words(
    """
    Andersen Berg Costa Dahl Eriksen Fischer Garcia Hansen Ivanova Jensen Keller Lindberg
    Moreau Nielsen Olsen Petersen Quist Rossi Schmidt Tanaka Ueda Vogel Weber Xu Yilmaz
    Zimmermann Almeida Bauer Carlsson Dubois Engel Fontaine Gruber Holm Iversen Janssen
    Kowalski Lund Meyer Novak Ortega Pereira Richter Svensson Thomsen Urban Varga Wagner
    Young Ziegler Nakamura Okafor Bergstrom Haddad Laine Mensah Park Silva Oyelaran Kaur
    """
)
ORG_PREFIXES = _words(
    """
    Nordwind Bluefield Silverline Redwood Brightpath Clearwater Ironbridge Greenhill
    Stonegate Summit Harbor Northstar Oakridge Riverside Suncrest Westbrook Evergreen
    Highland Lakeside Meadow Pinecrest Copperleaf Granite Horizon Keystone Lighthouse Maple
    Orchard Quarry Sterling Tidewater Unity Vantage Willow Zenith Aurora Beacon Cobalt Delta
    Falcon
    """
)
ORG_NOUNS = _words(
    """
    Logistics Bakery Systems Foods Engineering Studios Labs Consulting Pharma Energy Motors
    Textiles Media Robotics Analytics Hotels Dental Architects Brewing Outdoor Print
    Software Freight Optics Medical Solar Furniture Travel Apparel Farms
    """
)
LEGAL = ["GmbH", "Ltd", "BV", "SA", "Inc", "AB", "AS", "Oy"]
STREETS = """Main Street|Harbour Road|Station Square|Mill Lane|Park Avenue|Church Street|Market Place
|River Walk|King's Road|Garden Row|Bridge Street|Castle Hill""".replace("\n", "").split("|")
CITIES = _words(
    """
    Copenhagen Hamburg Rotterdam Lyon Porto Milan Gothenburg Vienna Dublin Krakow Ghent Tallinn
    """
)

CHANNELS = ["phone", "email", "meeting", "chat", "on_site", "portal", "community"]
CHANNEL_PROBS = [0.28, 0.30, 0.12, 0.10, 0.05, 0.10, 0.05]
KINDS = ["sale", "support", "training", "complaint", "feedback", "check_in"]
KIND_PROBS = [0.20, 0.25, 0.07, 0.07, 0.14, 0.27]
UNHAPPY_KIND_PROBS = [0.08, 0.27, 0.03, 0.35, 0.12, 0.15]  # inactive and defected customers
SUBJECTS = {
    "sale": ["Renewal offer", "Upgrade proposal", "Quote for additional seats", "Bundle offer"],
    "support": ["Login problem", "Invoice question", "Setup help", "Delivery status"],
    "training": ["Onboarding session", "Advanced features training", "New admin walkthrough"],
    "complaint": [
        "Complaint: late delivery",
        "Complaint: billing error",
        "Complaint: product defect",
        "Complaint: slow support answer",
    ],
    "feedback": ["Feature idea", "Survey answers", "Review of the last release"],
    "check_in": ["Quarterly check-in", "Account review", "Courtesy call", "Annual planning"],
}
NOTES = [
    "",
    "",
    "",
    "Asked for a follow-up with pricing details.",
    "Happy with the service so far; mentioned a colleague who may be interested.",
    "Wants fewer e-mails and more phone contact.",
    "Budget decision expected next quarter.",
    "Raised the same issue as last time; escalate if it happens again.",
]
REASSIGN_REASONS = [
    "Rebalanced books after a new hire.",
    "Customer asked for a different contact.",
    "Manager moved to another region.",
]
STAGE_PURCHASE_FACTOR = np.array([0.0, 0.5, 1.2, 1.5, 1.8, 2.0])
STAGE_CONTACT_FACTOR = np.array([0.6, 0.7, 1.0, 1.2, 1.4, 1.8])

# Why demo customers leave: codes of the taxonomy relationships seeds (migration 0003; an
# admin may have retired some, the generator uses those still active), how often, and
# what some said in the exit interview (the rest said nothing worth noting).
DEFECTION_REASONS = [
    ("price", 0.28),
    ("competitor", 0.22),
    ("service", 0.20),
    ("product_quality", 0.12),
    ("moved", 0.08),
    ("no_longer_needs", 0.07),
    ("other", 0.03),
]
EXIT_NOTE_SHARE = 0.7
EXIT_NOTES = {
    "price": [
        "Found the same licence 20% cheaper elsewhere.",
        "Budget cut; our renewal price was the first thing to go.",
        "Felt the last price rise was not explained.",
    ],
    "competitor": [
        "Moved to a competitor that bundles support for free.",
        "A competitor's sales team offered a long free trial.",
    ],
    "service": [
        "Waited two weeks for an answer to a billing question.",
        "Had three account managers in a year and had to explain everything each time.",
    ],
    "product_quality": [
        "The last two deliveries arrived damaged.",
        "Too many outages in the last quarter.",
    ],
    "moved": ["Relocated abroad, outside our delivery area."],
    "no_longer_needs": ["Project finished; no further need."],
    "other": ["Company was acquired; the new owner has its own supplier."],
}
# A complaint's root cause follows from what it was about: per complaint subject, the
# probabilities of COMPLAINT_CAUSE_CODES (the last row for any other subject).
COMPLAINT_CAUSE_CODES = ["price", "service", "product_quality", "other"]
COMPLAINT_CAUSE_PROBS = {
    "Complaint: late delivery": [0.0, 0.7, 0.1, 0.2],
    "Complaint: billing error": [0.6, 0.3, 0.0, 0.1],
    "Complaint: product defect": [0.0, 0.15, 0.85, 0.0],
    "Complaint: slow support answer": [0.0, 0.9, 0.0, 0.1],
    "Complaint: invoice sent twice": [0.3, 0.6, 0.0, 0.1],
}
OTHER_COMPLAINT_CAUSE_PROBS = [0.25, 0.35, 0.25, 0.15]
