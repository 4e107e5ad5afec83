"""Generated boards for benchmarks and size tests: thousands of varied positions from a seed.

The hand-written board lives in `board/` (see `sample_data`); these positions are made up
from pools of titles, areas and sentences so that two runs with the same seed measure the
same work, at realistic sizes (1-3 KB of HTML in three blocks each).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from careers.personio.model import Description, Position, Salary

__all__ = ["synthetic_positions"]

_GMBH = "Nordlicht Robotics GmbH"
_AUSTRIA = "Nordlicht Robotics Austria GmbH"
_LTD = "Nordlicht Robotics Ltd."

_ROLES = (
    (
        "Software Engineer",
        "Engineering",
        "software_and_web_development",
        "it_software",
        ("Python", "Go", "Kubernetes", "PostgreSQL", "TypeScript", "gRPC"),
    ),
    (
        "Robotics Engineer",
        "Engineering",
        "systems_and_process_engineering",
        "engineering",
        ("ROS", "C++", "SLAM", "Control Theory", "Simulation"),
    ),
    (
        "Hardware Engineer",
        "Engineering",
        "electrical_and_electronics_engineering",
        "engineering",
        ("PCB Design", "Altium", "Power Electronics", "EMC"),
    ),
    (
        "Product Manager",
        "Product",
        "product_management",
        "marketing_and_product",
        ("Roadmapping", "Discovery", "B2B SaaS", "Analytics"),
    ),
    (
        "Product Designer",
        "Product",
        "web_and_ui_and_ux_design",
        "creative_and_design",
        ("Figma", "User Research", "Design Systems"),
    ),
    (
        "Account Executive",
        "Sales",
        "business_development_and_new_accounts",
        "sales_and_business_development",
        ("B2B Sales", "Salesforce", "Negotiation"),
    ),
    (
        "Customer Success Manager",
        "Customer Success",
        "account_management_non_commissioned",
        "customer_support_and_client_care",
        ("Onboarding", "Renewals", "QBRs"),
    ),
    (
        "Marketing Manager",
        "Marketing",
        "marketing_communications",
        "marketing_and_product",
        ("Campaigns", "SEO", "HubSpot", "Events"),
    ),
    (
        "Recruiter",
        "People",
        "recruiting_and_sourcing",
        "human_resources",
        ("Sourcing", "Personio", "Employer Branding"),
    ),
    (
        "Service Technician",
        "Operations",
        "equipment_install_and_maintain_and_repair",
        "installation_and_maintenance_repair",
        ("Mechatronics", "Commissioning", "Travel"),
    ),
    (
        "Financial Controller",
        "Finance",
        "financial_control",
        "accounting_and_finance",
        ("Controlling", "DATEV", "Reporting"),
    ),
)
_AREAS = (
    "Fleet Management",
    "Navigation",
    "Warehouse Integrations",
    "Battery Systems",
    "Perception",
    "Billing",
    "Partner Channel",
    "DACH",
    "Nordics",
    "Benelux",
    "Platform",
    "Field Operations",
)
_LEVELS = (  # prefix, seniority, yearsOfExperience
    ("Junior ", "entry-level", "1-2"),
    ("", "experienced", "2-5"),
    ("Senior ", "experienced", "5-7"),
    ("Lead ", "experienced", "7-10"),
    ("Head of ", "executive", "10-15"),
)
_STUDENT_TYPES = (
    ("Working Student ", "working_student", "part-time"),
    ("Intern ", "intern", "full-time"),
)
_OTHER_TYPES = ("permanent",) * 7 + ("temporary", "freelance", "trainee")
_SCHEDULES = ("full-time",) * 5 + ("part-time", "full-or-part-time")
_OFFICES = (
    ("Berlin", _GMBH),
    ("Munich", _GMBH),
    ("Hamburg", _GMBH),
    ("Cologne", _GMBH),
    ("Vienna", _AUSTRIA),
    ("London", _LTD),
    ("Remote", ""),
    ("Remote (Germany)", _GMBH),
)
_TASKS = (
    "Take ownership of {area} from the first idea to the rollout at our customers",
    "Work closely with colleagues from engineering, product and sales on {area}",
    "Turn feedback from warehouses across Europe into concrete improvements",
    "Define goals for {area} together with your team and measure the results",
    "Document decisions so that others can build on your work",
    "Support colleagues in other offices and share what you have learned",
    "Help us choose the right tools and processes for a fast-growing company",
    "Represent {area} in planning meetings and customer workshops",
    "Analyse data from live robot fleets to find out where {area} can improve",
    "Onboard new colleagues and make {area} easier to understand for everyone",
)
_SKILLS = (
    "Several years of relevant professional experience, ideally in a technology company",
    "Hands-on experience with {keyword} and the willingness to learn new tools quickly",
    "A structured, independent way of working and clear written communication",
    "Very good English; German is a plus for many of our customers",
    "Interest in robotics, logistics or industrial automation",
    "You enjoy working in a diverse team and give and take honest feedback",
    "Experience in a fast-growing company or a start-up is an advantage",
    "You know your way around {keyword} and can explain it to customers and colleagues",
    "Willingness to travel to customer sites a few times per quarter",
)
_BENEFITS = (
    "A competitive salary and a virtual share programme",
    "30 days of holiday and flexible working hours",
    "Hybrid work with up to six weeks a year from anywhere in the EU",
    "A personal learning budget and time for conferences",
    "A subsidised public transport ticket or bike lease",
    "Regular team events and a test hall full of robots",
    "Company pension scheme with an employer contribution",
)


def synthetic_positions(n: int, seed: int = 0) -> list[Position]:
    """Generate `n` varied positions, the same ones for the same seed (benchmark boards)."""
    rng = random.Random(seed)
    newest = datetime(2026, 11, 1, tzinfo=UTC)
    return [_synthetic(rng, 3_000_000 + index, newest) for index in range(n)]


def _synthetic(rng: random.Random, job_id: int, newest: datetime) -> Position:
    """One generated position; elements go missing at rates seen in real feeds."""
    title, department, occupation, category, keyword_pool = rng.choice(_ROLES)
    area = rng.choice(_AREAS)
    office, subcompany = rng.choice(_OFFICES)
    if rng.random() < 0.12:
        prefix, employment_type, schedule = rng.choice(_STUDENT_TYPES)
        seniority, years = "student", "lt-1"
    else:
        prefix, seniority, years = rng.choice(_LEVELS)
        employment_type, schedule = rng.choice(_OTHER_TYPES), rng.choice(_SCHEDULES)
        if seniority == "executive":
            employment_type = "permanent"
        elif employment_type == "trainee":
            prefix, seniority, years = "Trainee ", "entry-level", "lt-1"
    if prefix == "Head of ":
        title = department
    keywords = tuple(rng.sample(keyword_pool, rng.randint(1, len(keyword_pool))))
    others = [name for name, _ in _OFFICES if name != office]
    return Position(
        id=job_id,
        name=f"{prefix}{title} – {area} (m/f/d)",
        subcompany=subcompany if rng.random() < 0.7 else "",
        office=office,
        additional_offices=tuple(rng.sample(others, rng.randint(1, 2)))
        if rng.random() < 0.2
        else (),
        department=department if rng.random() < 0.95 else "",
        recruiting_category=department if rng.random() < 0.85 else "",
        descriptions=_synthetic_blocks(rng, area, keywords),
        employment_type=employment_type,
        seniority=seniority,
        schedule=schedule,
        years_of_experience=years if rng.random() < 0.9 else "",
        keywords=keywords if rng.random() < 0.9 else (),
        occupation=occupation,
        occupation_category=category,
        created_at=newest - timedelta(seconds=rng.randrange(365 * 86400)),
        salary=_synthetic_salary(rng, office, employment_type) if rng.random() < 0.35 else None,
    )


def _synthetic_blocks(
    rng: random.Random, area: str, keywords: tuple[str, ...]
) -> tuple[Description, ...]:
    """Three description blocks of realistic length with lists, bold text and a link."""

    def bullets(pool: tuple[str, ...]) -> str:
        picked = rng.sample(pool, rng.randint(3, len(pool)))
        items = "".join(
            f"<li>{line.format(area=area, keyword=rng.choice(keywords))}</li>" for line in picked
        )
        return f"<ul>{items}</ul>"

    intro = (
        f"<p>Our <strong>{area}</strong> team makes sure that hundreds of robots work "
        "reliably in warehouses across Europe. You join at a time when we are growing fast "
        "and every contribution is visible.</p>"
        + rng.choice(
            (
                "",
                "<p>You will work with a team of eight people across two offices and report to "
                "the head of the department.</p>",
                "<p>This is a new role: you will shape how we work in this area for years to "
                "come, with the support of an experienced team.</p>",
            )
        )
    )
    closing = (
        '<p>Learn more at <a href="https://nordlicht-robotics.example/careers">'
        "nordlicht-robotics.example</a>.</p>"
    )
    return (
        Description("Your mission", intro + bullets(_TASKS)),
        Description("Your profile", bullets(_SKILLS)),
        Description("What we offer", bullets(_BENEFITS) + closing),
    )


def _synthetic_salary(rng: random.Random, office: str, employment_type: str) -> Salary:
    """Monthly pay for students, yearly otherwise; sometimes without a maximum."""
    symbol, code = ("£", "GBP") if office == "London" else ("€", "EUR")
    if employment_type in ("working_student", "intern"):
        low = float(rng.randrange(1200, 2200, 50))
        return Salary(low, low + 200, symbol, code, "monthly")
    low = float(rng.randrange(40000, 110000, 1000))
    high = None if rng.random() < 0.2 else low + rng.randrange(5000, 30000, 1000)
    return Salary(low, high, symbol, code, "yearly")
