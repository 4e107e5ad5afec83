"""Jobs of the fictional "Nordlicht Robotics", so the sandbox, demo and tests share one board.

The hand-written board exercises what real feeds do (docs/personio.md §1.3-1.5): missing elements,
additionalOffices, salaryInformation with an empty max, keywords with odd spacing, "•" text
bullets, "&amp;" inside CDATA, and one job that has no German text at all.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack

from careers.personio.model import Description, Position, Salary

__all__ = [
    "COMPANY",
    "LANGUAGES",
    "UNTRANSLATED_ID",
    "sample_feeds",
    "sample_positions",
    "synthetic_positions",
]

COMPANY = "Nordlicht Robotics"
LANGUAGES = ("en", "de")
UNTRANSLATED_ID = 1843366  # written in English only; see `_job`

_GMBH = "Nordlicht Robotics GmbH"
_AUSTRIA = "Nordlicht Robotics Austria GmbH"
_LTD = "Nordlicht Robotics Ltd."

Blocks = tuple[tuple[str, str], ...]


def _at(text: str) -> datetime:
    """Fixed UTC timestamps keep the board identical on every run."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Shared blocks, as employers reuse them across postings.

_ABOUT_EN = (
    "About us",
    "<p>Nordlicht Robotics builds autonomous mobile robots for intralogistics. Founded in Hamburg "
    "in 2017, we are now 320 people in five offices, and our robots have driven more than twelve "
    "million kilometres in customer warehouses.</p><p>Learn more about our team and our values "
    'at <a href="https://nordlicht-robotics.example/about">nordlicht-robotics.example</a>.</p>',
)
_ABOUT_DE = (
    "Über uns",
    "<p>Nordlicht Robotics baut autonome mobile Roboter für die Intralogistik. 2017 in Hamburg "
    "gegründet, sind wir heute 320 Menschen an fünf Standorten, und unsere Roboter sind in den "
    "Lagern unserer Kunden schon mehr als zwölf Millionen Kilometer gefahren.</p><p>Mehr über "
    'unser Team und unsere Werte: <a href="https://nordlicht-robotics.example/de/about">'
    "nordlicht-robotics.example</a>.</p>",
)
_OFFER_DE_EN = (
    "What we offer",
    "<ul><li>A competitive salary plus our virtual share programme</li><li>30 days of holiday and "
    "flexible working hours</li><li>Up to two days a week from home, and up to six weeks a year "
    "from anywhere in the EU</li><li>A personal learning budget of €1,500 a year and time for "
    "conferences</li><li>Deutschlandticket or a JobRad bike lease, your choice</li><li>Team "
    "lunches and a test hall full of robots</li></ul>",
)
_OFFER_DE_DE = (
    "Was wir bieten",
    "<ul><li>Ein attraktives Gehalt plus unser virtuelles Beteiligungsprogramm</li><li>30 Tage "
    "Urlaub und flexible Arbeitszeiten</li><li>Bis zu zwei Tage pro Woche mobiles Arbeiten und "
    "bis zu sechs Wochen im Jahr aus dem EU-Ausland</li><li>Ein persönliches Weiterbildungsbudget "
    "von 1.500 € im Jahr und Zeit für Konferenzen</li><li>Deutschlandticket oder JobRad – du "
    "entscheidest</li><li>Gemeinsame Mittagessen und eine Testhalle voller Roboter</li></ul>",
)
_OFFER_STUDENT_EN = (
    "What we offer",
    "<ul><li>Real responsibility from day one, with a mentor who has time for you</li><li>Hours "
    "that fit around your lectures and exams</li><li>Fair pay and a Deutschlandticket</li><li>The "
    "chance to write your thesis with us or stay on after graduating</li></ul>",
)
_OFFER_STUDENT_DE = (
    "Was wir bieten",
    "<ul><li>Echte Verantwortung ab dem ersten Tag und ein*e Mentor*in, die sich Zeit für dich "
    "nimmt</li><li>Arbeitszeiten, die sich nach deinen Vorlesungen und Prüfungen richten</li><li>"
    "Faire Vergütung und ein Deutschlandticket</li><li>Die Möglichkeit, deine Abschlussarbeit bei "
    "uns zu schreiben oder nach dem Studium zu bleiben</li></ul>",
)
_OFFER_UK_EN = (
    "What we offer",
    "<ul><li>Competitive salary, annual bonus and share options</li><li>27 days of holiday plus "
    "bank holidays</li><li>Private medical insurance and a 5% matched pension</li><li>Hybrid "
    "working from our office near King's Cross</li><li>Regular trips to our test hall in "
    "Hamburg</li></ul>",
)
_OFFER_UK_DE = (
    "Was wir bieten",
    "<ul><li>Wettbewerbsfähiges Gehalt, jährlicher Bonus und Aktienoptionen</li><li>27 Tage "
    "Urlaub zuzüglich der britischen Feiertage</li><li>Private Krankenversicherung und 5 % "
    "Arbeitgeberzuschuss zur Altersvorsorge</li><li>Hybrides Arbeiten in unserem Büro nahe "
    "King's Cross</li><li>Regelmäßige Besuche in unserer Testhalle in Hamburg</li></ul>",
)


class _Facts(TypedDict, total=False):
    """The Position fields a job shares across languages (all but id, name, descriptions)."""

    subcompany: str
    office: str
    additional_offices: tuple[str, ...]
    department: str
    recruiting_category: str
    employment_type: str
    seniority: str
    schedule: str
    years_of_experience: str
    keywords: tuple[str, ...]
    occupation: str
    occupation_category: str
    created_at: datetime | None
    salary: Salary | None


def _job(
    job_id: int, en: tuple[str, Blocks], de: tuple[str, Blocks] | None, **facts: Unpack[_Facts]
) -> dict[str, Position]:
    """Build one job's Position per language; titles and texts differ, the facts do not."""
    english = Position(id=job_id, name=en[0], descriptions=_descriptions(en[1]), **facts)
    if de is None:
        # A job not written in German is still listed in the German feed, with its English
        # title and no jobDescriptions at all (docs/personio.md §1.1, "Untranslated postings").
        return {"en": english, "de": Position(id=job_id, name=en[0], **facts)}
    german = Position(id=job_id, name=de[0], descriptions=_descriptions(de[1]), **facts)
    return {"en": english, "de": german}


def _descriptions(blocks: Blocks) -> tuple[Description, ...]:
    """Turn (heading, html) pairs into Description objects."""
    return tuple(Description(name=name, html=html) for name, html in blocks)


_JOBS = (
    _job(
        1842907,
        en=(
            "Senior Robotics Software Engineer – Motion Planning (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Our robots move pallets, totes and trolleys through more than 140 "
                    "warehouses across Europe. As part of the Motion Planning team you make sure "
                    "they get from A to B quickly, smoothly and without ever surprising the people "
                    "working next to them.</p><ul><li>Design and implement planning and control "
                    "algorithms in modern C++ on ROS 2</li><li>Turn field data from customer sites "
                    "into measurable improvements</li><li>Own features end to end, from simulation "
                    "to the test hall to a live warehouse</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>At least five years of professional experience with C++17 or newer "
                    "in robotics or another real-time domain</li><li>A solid grasp of path "
                    "planning, trajectory optimisation and collision checking</li><li>Experience "
                    "with ROS, Linux and simulators such as Gazebo</li><li>You write tests as a "
                    "matter of course and enjoy reviewing code with others</li><li>Very good "
                    "English; German is a plus, not a requirement</li></ul>",
                ),
                _OFFER_DE_EN,
                _ABOUT_EN,
            ),
        ),
        de=(
            "Senior Robotics Software Engineer – Bewegungsplanung (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Unsere Roboter bewegen Paletten, Behälter und Rollwagen in mehr als 140 "
                    "Lagern in ganz Europa. Im Team Motion Planning sorgst du dafür, dass sie "
                    "schnell, ruhig und ohne Überraschungen für die Menschen neben ihnen von A "
                    "nach B kommen.</p><ul><li>Du entwirfst und implementierst Planungs- und "
                    "Regelungsalgorithmen in modernem C++ auf ROS 2</li><li>Du machst aus "
                    "Felddaten unserer Kunden messbare Verbesserungen</li><li>Du verantwortest "
                    "Features von der Simulation über die Testhalle bis ins Live-Lager</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Mindestens fünf Jahre Berufserfahrung mit C++17 oder neuer in der "
                    "Robotik oder einem anderen Echtzeit-Umfeld</li><li>Fundiertes Wissen in "
                    "Pfadplanung, Trajektorienoptimierung und Kollisionsprüfung</li><li>Erfahrung "
                    "mit ROS, Linux und Simulatoren wie Gazebo</li><li>Tests schreibst du "
                    "selbstverständlich, und Code-Reviews machen dir Spaß</li><li>Sehr gutes "
                    "Englisch; Deutsch ist ein Plus, aber keine Voraussetzung</li></ul>",
                ),
                _OFFER_DE_DE,
                _ABOUT_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Munich",
        additional_offices=("Remote (Germany)",),
        department="Engineering",
        recruiting_category="Engineering",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-time",
        years_of_experience="5-7",
        keywords=("ROS ", "C++", "Python", "Motion Planning"),
        occupation="software_and_web_development",
        occupation_category="it_software",
        created_at=_at("2026-10-14T09:12:44"),
        salary=Salary(75000, 95000, "€", "EUR", "yearly"),
    ),
    _job(
        1842958,
        en=(
            "Embedded Systems Engineer (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Every Nordlicht robot runs on a dozen microcontrollers: motor drivers, "
                    "battery management, safety scanners, lift units. You own the firmware that "
                    "keeps them talking to each other.</p><ul><li>Develop and maintain firmware in "
                    "C for STM32 boards running FreeRTOS</li><li>Bring up new hardware together "
                    "with our electronics team</li><li>Design robust CAN communication between the "
                    "robot's subsystems</li><li>Track down the hard bugs with an oscilloscope, a "
                    "logic analyser and a lot of patience</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>A degree in electrical or computer engineering, or comparable "
                    "experience</li><li>Two or more years of writing firmware for "
                    "microcontrollers</li><li>Comfortable reading schematics and datasheets</li>"
                    "<li>Experience with CAN, SPI and I²C; functional safety is a bonus</li></ul>",
                ),
                _OFFER_DE_EN,
            ),
        ),
        de=(
            "Embedded Systems Engineer (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>In jedem Nordlicht-Roboter arbeiten ein Dutzend Mikrocontroller: "
                    "Motortreiber, Batteriemanagement, Sicherheitsscanner, Hubeinheiten. Du "
                    "verantwortest die Firmware, die sie miteinander sprechen lässt.</p><ul><li>Du "
                    "entwickelst Firmware in C für STM32-Boards mit FreeRTOS</li><li>Du nimmst "
                    "neue Hardware gemeinsam mit unserem Elektronik-Team in Betrieb</li><li>Du "
                    "gestaltest eine robuste CAN-Kommunikation zwischen den Subsystemen</li><li>Du "
                    "findest auch die kniffligen Fehler – mit Oszilloskop, Logikanalysator und "
                    "Geduld</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Studium der Elektrotechnik oder Technischen Informatik oder "
                    "vergleichbare Erfahrung</li><li>Mindestens zwei Jahre Erfahrung mit Firmware "
                    "für Mikrocontroller</li><li>Du liest Schaltpläne und Datenblätter "
                    "routiniert</li><li>Erfahrung mit CAN, SPI und I²C; funktionale Sicherheit ist "
                    "ein Plus</li></ul>",
                ),
                _OFFER_DE_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Hamburg",
        department="Engineering",
        recruiting_category="Engineering",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-time",
        years_of_experience="2-5",
        keywords=("Embedded C", "FreeRTOS", "STM32", "CAN"),
        occupation="electrical_and_electronics_engineering",
        occupation_category="engineering",
        created_at=_at("2026-09-02T13:40:05"),
    ),
    _job(
        1843011,
        en=(
            "Product Manager Fleet Software (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Fleet Manager is the web application our customers use to plan, monitor "
                    "and tune dozens of robots per site. You decide what it does next.</p><ul><li>"
                    "Talk to warehouse managers, shift leads and integrators every week</li><li>"
                    "Shape the roadmap together with engineering &amp; design</li><li>Write clear "
                    "problem statements and measure whether we solved them</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Five or more years of product management for B2B software</li><li>"
                    "You are at home with data and curious about hardware</li><li>Logistics or "
                    "industrial experience is a strong plus</li><li>Fluent English; German is "
                    "helpful for customer visits</li></ul>",
                ),
                _OFFER_DE_EN,
                _ABOUT_EN,
            ),
        ),
        de=(
            "Product Manager Flottensoftware (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Mit dem Fleet Manager planen, überwachen und optimieren unsere Kunden "
                    "Dutzende Roboter pro Standort. Du entscheidest, was er als Nächstes kann.</p>"
                    "<ul><li>Du sprichst jede Woche mit Lagerleitungen, Schichtleitungen und "
                    "Integratoren</li><li>Du gestaltest die Roadmap gemeinsam mit Engineering "
                    "&amp; Design</li><li>Du formulierst klare Problemstellungen und misst, ob wir "
                    "sie gelöst haben</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Mindestens fünf Jahre Produktmanagement für B2B-Software</li><li>Du "
                    "arbeitest gern mit Daten und interessierst dich für Hardware</li><li>"
                    "Erfahrung in Logistik oder Industrie ist ein großes Plus</li><li>Fließendes "
                    "Englisch; Deutsch hilft bei Kundenbesuchen</li></ul>",
                ),
                _OFFER_DE_DE,
                _ABOUT_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Berlin",
        additional_offices=("Hamburg", "Remote (Germany)"),
        department="Product",
        recruiting_category="Product & Design",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-or-part-time",
        years_of_experience="5-7",
        keywords=("Product Management", "B2B SaaS", "Logistics"),
        occupation="product_management",
        occupation_category="marketing_and_product",
        created_at=_at("2026-11-03T08:05:31"),
        salary=Salary(70000, 85000, "€", "EUR", "yearly"),
    ),
    _job(
        1843054,
        en=(
            "Account Executive Austria (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Austria is our fastest-growing market. From Vienna you win new customers "
                    "among logistics providers, retailers and manufacturers.</p><ul><li>Own the "
                    "full sales cycle from first call to signed contract</li><li>Run on-site "
                    "assessments together with our solutions engineers</li><li>Build a pipeline "
                    "you can forecast with confidence</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Two to five years in B2B sales of technical products</li><li>A "
                    "network in Austrian logistics is a big advantage</li><li>Business-fluent "
                    "German and English</li><li>A driving licence and willingness to travel</li>"
                    "</ul>",
                ),
                (
                    "What we offer",
                    "<p>The minimum salary for this position is <strong>€4,200 gross per month"
                    "</strong> (paid 14 times a year) under the collective agreement; we pay more "
                    "depending on your experience.</p><ul><li>Uncapped commission</li><li>Company "
                    "car, also for private use</li><li>Klimaticket Österreich</li></ul>",
                ),
            ),
        ),
        de=(
            "Account Executive Österreich (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Österreich ist unser am schnellsten wachsender Markt. Von Wien aus "
                    "gewinnst du neue Kunden bei Logistikdienstleistern, Handel und Industrie.</p>"
                    "<ul><li>Du verantwortest den gesamten Vertriebsprozess vom Erstgespräch bis "
                    "zum Vertrag</li><li>Du führst Vor-Ort-Analysen gemeinsam mit unseren "
                    "Solutions Engineers durch</li><li>Du baust eine verlässlich planbare Pipeline "
                    "auf</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Zwei bis fünf Jahre Erfahrung im B2B-Vertrieb technischer "
                    "Produkte</li><li>Ein Netzwerk in der österreichischen Logistik ist ein "
                    "großer Vorteil</li><li>Verhandlungssicheres Deutsch und Englisch</li><li>"
                    "Führerschein B und Reisebereitschaft</li></ul>",
                ),
                (
                    "Was wir bieten",
                    "<p>Das kollektivvertragliche Mindestgehalt für diese Position beträgt "
                    "<strong>4.200 € brutto pro Monat</strong> (14-mal jährlich); eine Überzahlung "
                    "je nach Erfahrung ist selbstverständlich.</p><ul><li>Provision ohne "
                    "Deckelung</li><li>Firmenwagen, auch zur privaten Nutzung</li><li>Klimaticket "
                    "Österreich</li></ul>",
                ),
            ),
        ),
        subcompany=_AUSTRIA,
        office="Vienna",
        department="Sales",
        recruiting_category="Sales",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-time",
        years_of_experience="2-5",
        keywords=("B2B Sales", "Intralogistics", "Salesforce"),
        occupation="business_development_and_new_accounts",
        occupation_category="sales_and_business_development",
        created_at=_at("2026-08-19T10:30:00"),
        salary=Salary(4200, None, "€", "EUR", "monthly"),
    ),
    _job(
        1843190,
        en=(
            "Customer Success Manager UK",
            (
                (
                    "Your mission",
                    "<p>Once the robots are live, you make sure our UK customers get everything "
                    "out of them.</p><ul><li>Lead onboarding for new sites together with our "
                    "field team</li><li>Run quarterly business reviews built on real fleet "
                    "data</li><li>Spot expansion opportunities and hand them to sales</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Two or more years in customer success or account management, "
                    "ideally for B2B technology</li><li>Calm under pressure when a site has a bad "
                    "day</li><li>Happy to travel across the UK about twice a month</li></ul>",
                ),
                _OFFER_UK_EN,
            ),
        ),
        de=(
            "Customer Success Manager UK (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Sobald die Roboter laufen, sorgst du dafür, dass unsere britischen Kunden "
                    "das Beste aus ihnen herausholen.</p><ul><li>Du leitest das Onboarding neuer "
                    "Standorte gemeinsam mit unserem Field-Team</li><li>Du führst quartalsweise "
                    "Business Reviews auf Basis echter Flottendaten durch</li><li>Du erkennst "
                    "Ausbaupotenzial und übergibst es an den Vertrieb</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Mindestens zwei Jahre Erfahrung in Customer Success oder Account "
                    "Management, idealerweise im B2B-Technologieumfeld</li><li>Du bleibst ruhig, "
                    "wenn ein Standort einen schlechten Tag hat</li><li>Du reist gern etwa zweimal "
                    "im Monat innerhalb Großbritanniens</li></ul>",
                ),
                _OFFER_UK_DE,
            ),
        ),
        subcompany=_LTD,
        office="London",
        department="Customer Success",
        recruiting_category="Customer Success",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-time",
        years_of_experience="2-5",
        keywords=("Customer Success", "Onboarding", "Account Management"),
        occupation="account_management_non_commissioned",
        occupation_category="customer_support_and_client_care",
        created_at=_at("2026-07-07T15:22:10"),
        salary=Salary(48000, 58000, "£", "GBP", "yearly"),
    ),
    _job(
        UNTRANSLATED_ID,
        en=(
            "Senior Solutions Engineer",
            (
                (
                    "Your mission",
                    "<p>You are the technical voice in our UK sales team. You understand how a "
                    "warehouse really works and show customers how robots fit in.</p><ul><li>Run "
                    "site surveys and build throughput simulations</li><li>Design integrations "
                    "with warehouse management systems over our REST APIs</li><li>Answer the "
                    "tough questions in tenders and security reviews</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Seven or more years in pre-sales, consulting or engineering for "
                    "logistics or automation</li><li>Hands-on experience with WMS integrations "
                    "</li><li>You explain complex systems in plain English</li></ul>",
                ),
                _OFFER_UK_EN,
                (
                    "Contact",
                    "<p>Questions about the role? Write to <strong>Priya Raman</strong>, Talent "
                    "Acquisition, at "
                    '<a href="mailto:jobs-uk@nordlicht-robotics.example">'
                    "jobs-uk@nordlicht-robotics.example</a>.<br>A CV is all we need.</p>",
                ),
            ),
        ),
        de=None,
        subcompany=_LTD,
        office="London",
        additional_offices=("Remote (United Kingdom)",),
        department="Sales",
        recruiting_category="Sales",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-time",
        years_of_experience="7-10",
        keywords=("Pre-Sales", "WMS integration", "REST APIs"),
        occupation="technical_presales_support__technical_sales",
        occupation_category="sales_and_business_development",
        created_at=_at("2026-10-28T11:00:15"),
    ),
    _job(
        1843402,
        en=(
            "Working Student Content Marketing (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Robots make great videos. Help us tell their story.</p><ul><li>Plan and "
                    "publish posts for LinkedIn and our blog</li><li>Film and edit short clips in "
                    "our test hall</li><li>Keep an eye on what works and report on it</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Enrolled in a degree in marketing, communications, media or similar"
                    "</li><li>Available 16–20 hours a week</li><li>You write well in English; "
                    "German is a plus</li></ul>",
                ),
                _OFFER_STUDENT_EN,
            ),
        ),
        de=(
            "Werkstudent*in Content Marketing (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Roboter sind großartige Videostars. Hilf uns, ihre Geschichte zu erzählen."
                    "</p><ul><li>Du planst und veröffentlichst Beiträge für LinkedIn und unseren "
                    "Blog</li><li>Du drehst und schneidest kurze Clips in unserer Testhalle</li>"
                    "<li>Du behältst im Blick, was funktioniert, und berichtest darüber</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Eingeschrieben in Marketing, Kommunikation, Medien oder einem "
                    "ähnlichen Studiengang</li><li>16–20 Stunden pro Woche verfügbar</li><li>Du "
                    "schreibst gut auf Englisch; Deutsch ist ein Plus</li></ul>",
                ),
                _OFFER_STUDENT_DE,
            ),
        ),
        office="Berlin",
        department="Marketing",
        recruiting_category="Students & Graduates",
        employment_type="working_student",
        seniority="student",
        schedule="part-time",
        years_of_experience="lt-1",
        keywords=("Content", "LinkedIn", "Video"),
        occupation="marketing_communications",
        occupation_category="marketing_and_product",
        created_at=_at("2026-09-23T07:45:00"),
    ),
    _job(
        1843455,
        en=(
            "Internship Mechanical Engineering – Gripper Design (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>For six months you join the team that designs the load handling units of "
                    "our robots.</p><ul><li>Design gripper prototypes in SolidWorks</li><li>Build "
                    "and test them in our workshop</li><li>Document your results so the team can "
                    "build on them</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Studying mechanical engineering, mechatronics or similar</li><li>"
                    "First experience with a CAD tool</li><li>You like to get your hands dirty"
                    "</li></ul>",
                ),
                _OFFER_STUDENT_EN,
            ),
        ),
        de=(
            "Praktikum Maschinenbau – Greiferkonstruktion (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Sechs Monate lang arbeitest du im Team, das die Lastaufnahmen unserer "
                    "Roboter konstruiert.</p><ul><li>Du konstruierst Greifer-Prototypen in "
                    "SolidWorks</li><li>Du baust und testest sie in unserer Werkstatt</li><li>Du "
                    "dokumentierst deine Ergebnisse, damit das Team darauf aufbauen kann</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Studium des Maschinenbaus, der Mechatronik oder ähnlich</li><li>Erste "
                    "Erfahrung mit einem CAD-Programm</li><li>Du packst gern selbst mit an</li>"
                    "</ul>",
                ),
                _OFFER_STUDENT_DE,
            ),
        ),
        office="Munich",
        department="Engineering",
        recruiting_category="Students & Graduates",
        employment_type="intern",
        seniority="student",
        schedule="full-time",
        years_of_experience="lt-1",
        keywords=("CAD", "SolidWorks", "Prototyping"),
        occupation="mechanical_engineering",
        occupation_category="engineering",
        created_at=_at("2026-06-30T12:00:00"),
    ),
    _job(
        1843517,
        en=(
            "Trainee Technical Sales (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Our 18-month trainee programme takes you through sales, solutions "
                    "engineering and customer success before you take on your own "
                    "territory.</p><ul><li>Prepare offers and customer presentations</li><li>Join "
                    "site visits all over Germany</li><li>Learn how a robot fleet is sized and "
                    "priced</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>A completed degree in industrial engineering, business or a "
                    "technical subject</li><li>First practical experience, for example an "
                    "internship in sales</li><li>Fluent German and good English</li></ul>",
                ),
                _OFFER_DE_EN,
            ),
        ),
        de=(
            "Trainee Technischer Vertrieb (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Unser 18-monatiges Traineeprogramm führt dich durch Vertrieb, Solutions "
                    "Engineering und Customer Success, bevor du ein eigenes Gebiet "
                    "übernimmst.</p><ul><li>Du erstellst Angebote und Kundenpräsentationen</li><li>"
                    "Du begleitest Kundenbesuche in ganz Deutschland</li><li>Du lernst, wie eine "
                    "Roboterflotte dimensioniert und kalkuliert wird</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Abgeschlossenes Studium des Wirtschaftsingenieurwesens, der BWL oder "
                    "eines technischen Fachs</li><li>Erste Praxiserfahrung, zum Beispiel ein "
                    "Praktikum im Vertrieb</li><li>Fließendes Deutsch und gutes Englisch</li></ul>",
                ),
                _OFFER_DE_DE,
            ),
        ),
        office="Hamburg",
        department="Sales",
        recruiting_category="Sales",
        employment_type="trainee",
        seniority="entry-level",
        schedule="full-time",
        years_of_experience="1-2",
        keywords=("Sales", "Trainee programme", "Engineering"),
        occupation="sales_support_and_assistance",
        occupation_category="sales_and_business_development",
        created_at=_at("2026-08-04T09:00:00"),
    ),
    _job(
        1843560,
        en=(
            "Freelance Technical Writer (m/f/d)",
            (
                (
                    "Your mission",
                    "For our developer documentation we are looking for support on a freelance "
                    "basis, about 15 hours a week, fully remote.<br>• Write and update guides for "
                    "our REST and fleet APIs<br>• Turn engineering notes into tutorials that "
                    "integrators love<br>• Review pull requests for clarity and consistency",
                ),
                (
                    "Your profile",
                    "<strong>Must have:</strong><br>• Five or more years of technical writing for "
                    "developers<br>• Experience with docs-as-code (Markdown, Git)<br><br><strong>"
                    "Nice to have:</strong><br>• Knowledge of robotics or logistics<br>",
                ),
                (
                    "Working with us",
                    "Invoicing monthly, rates by agreement. A first assignment of three months "
                    "with the option to extend.<br>Read our current docs at "
                    '<a href="https://docs.nordlicht-robotics.example">'
                    "docs.nordlicht-robotics.example</a>.",
                ),
            ),
        ),
        de=(
            "Freiberufliche*r Technische*r Redakteur*in (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "Für unsere Entwicklerdokumentation suchen wir Unterstützung auf "
                    "freiberuflicher Basis, etwa 15 Stunden pro Woche, komplett remote.<br>• Du "
                    "schreibst und aktualisierst Anleitungen für unsere REST- und Flotten-APIs<br>"
                    "• Du machst aus Entwicklernotizen Tutorials, die Integratoren lieben<br>"
                    "• Du prüfst Pull Requests auf Verständlichkeit und Konsistenz",
                ),
                (
                    "Dein Profil",
                    "<strong>Muss:</strong><br>• Mindestens fünf Jahre Erfahrung als technische*r "
                    "Redakteur*in für Entwickler<br>• Erfahrung mit Docs-as-Code (Markdown, Git)"
                    "<br><br><strong>Kann:</strong><br>• Kenntnisse in Robotik oder Logistik<br>",
                ),
                (
                    "Zusammenarbeit",
                    "Abrechnung monatlich, Stundensatz nach Vereinbarung. Erster Auftrag über drei "
                    "Monate mit Option auf Verlängerung.<br>Unsere aktuelle Dokumentation findest "
                    'du unter <a href="https://docs.nordlicht-robotics.example">'
                    "docs.nordlicht-robotics.example</a>.",
                ),
            ),
        ),
        office="Remote",
        department="Product",
        employment_type="freelance",
        seniority="experienced",
        schedule="part-time",
        years_of_experience="5-7",
        keywords=("Documentation", "Docs-as-code", "Markdown"),
        occupation="documentation_and_technical_writing",
        occupation_category="editorial_and_writing",
        created_at=_at("2026-10-06T16:18:52"),
    ),
    _job(
        1843611,
        en=(
            "VP of Engineering (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>You lead our engineering organisation of 120 people across Berlin and "
                    "Munich, reporting to the CTO.</p><ul><li>Grow and develop a team of "
                    "engineering managers</li><li>Balance product speed with the safety our "
                    "customers rely on</li><li>Own engineering budget, hiring plan and "
                    "delivery</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Ten or more years in engineering, at least five of them leading "
                    "leaders</li><li>Experience shipping products that combine hardware and "
                    "software</li><li>A track record of building inclusive teams</li></ul>",
                ),
                _OFFER_DE_EN,
                _ABOUT_EN,
            ),
        ),
        de=(
            "VP of Engineering (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Du leitest unsere Engineering-Organisation mit 120 Menschen in Berlin und "
                    "München und berichtest an den CTO.</p><ul><li>Du entwickelst ein Team aus "
                    "Engineering Managern weiter</li><li>Du bringst Produkttempo und die "
                    "Sicherheit, auf die unsere Kunden zählen, in Einklang</li><li>Du "
                    "verantwortest Budget, Einstellungsplan und Lieferfähigkeit</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Mindestens zehn Jahre im Engineering, davon mindestens fünf als "
                    "Führungskraft von Führungskräften</li><li>Erfahrung mit Produkten aus Hard- "
                    "und Software</li><li>Nachweislich inklusive Teams aufgebaut</li></ul>",
                ),
                _OFFER_DE_DE,
                _ABOUT_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Berlin",
        additional_offices=("Munich",),
        department="Engineering",
        recruiting_category="Leadership",
        employment_type="permanent",
        seniority="executive",
        schedule="full-time",
        years_of_experience="10-15",
        keywords=("Leadership", "Robotics", "Scaling"),
        occupation="business_unit_management",
        occupation_category="business_and_strategic_development",
        created_at=_at("2026-07-21T10:10:10"),
    ),
    _job(
        1843673,
        en=(
            "People Partner (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>You are the go-to person for managers and employees in Berlin and "
                    "Hamburg.</p><ul><li>Advise managers on performance, development and employee "
                    "relations</li><li>Run our feedback and promotion cycles</li><li>Work with the "
                    "works council in a spirit of trust</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Two to five years as an HR business partner or generalist</li><li>"
                    "Sound knowledge of German labour law</li><li>Fluent German and English</li>"
                    "</ul>",
                ),
                _OFFER_DE_EN,
            ),
        ),
        de=(
            "People Partner (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Du bist erste Ansprechperson für Führungskräfte und Mitarbeitende in "
                    "Berlin und Hamburg.</p><ul><li>Du berätst Führungskräfte zu Leistung, "
                    "Entwicklung und Arbeitsbeziehungen</li><li>Du steuerst unsere Feedback- und "
                    "Beförderungsrunden</li><li>Du arbeitest vertrauensvoll mit dem Betriebsrat "
                    "zusammen</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Zwei bis fünf Jahre Erfahrung als HR Business Partner oder "
                    "Generalist*in</li><li>Fundierte Kenntnisse im deutschen Arbeitsrecht</li><li>"
                    "Fließendes Deutsch und Englisch</li></ul>",
                ),
                _OFFER_DE_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Berlin",
        department="People",
        recruiting_category="People & Operations",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-or-part-time",
        years_of_experience="2-5",
        keywords=("HR", "Employee Relations", "German labour law"),
        occupation="general_and_other_human_resources",
        occupation_category="human_resources",
        created_at=_at("2026-11-17T13:05:00"),
    ),
    _job(
        1843720,
        en=(
            "Field Service Technician – Robot Commissioning (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>For a twelve-month customer roll-out in northern Germany we are looking "
                    "for hands-on support on a fixed-term contract.</p><ul><li>Commission new "
                    "robots and charging stations on site</li><li>Carry out maintenance and "
                    "repairs</li><li>Train customer staff in safe operation</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>Completed vocational training as a mechatronics technician or "
                    "electrician</li><li>First professional experience in service or "
                    "commissioning</li><li>Driving licence (class B) and willingness to travel "
                    "</li></ul>",
                ),
                _OFFER_DE_EN,
            ),
        ),
        de=(
            "Servicetechniker*in Inbetriebnahme (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Für einen zwölfmonatigen Kunden-Rollout in Norddeutschland suchen wir "
                    "befristet tatkräftige Unterstützung.</p><ul><li>Du nimmst neue Roboter und "
                    "Ladestationen vor Ort in Betrieb</li><li>Du übernimmst Wartung und "
                    "Reparaturen</li><li>Du schulst Kundenmitarbeitende im sicheren Betrieb</li>"
                    "</ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Abgeschlossene Ausbildung als Mechatroniker*in oder "
                    "Elektroniker*in</li><li>Erste Berufserfahrung in Service oder "
                    "Inbetriebnahme</li><li>Führerschein Klasse B und Reisebereitschaft</li></ul>",
                ),
                _OFFER_DE_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Hamburg",
        additional_offices=("Bremen", "Hanover"),
        department="Operations",
        recruiting_category="Operations",
        employment_type="temporary",
        seniority="entry-level",
        schedule="full-time",
        years_of_experience="1-2",
        keywords=("Mechatronics", "Commissioning", "Travel"),
        occupation="equipment_install_and_maintain_and_repair",
        occupation_category="installation_and_maintenance_repair",
        created_at=_at("2026-09-15T06:30:00"),
        salary=Salary(3400, 3900, "€", "EUR", "monthly"),
    ),
    _job(
        1843788,
        en=(
            "Principal Functional Safety Engineer (m/f/d)",
            (
                (
                    "Your mission",
                    "<p>Robots and people share the same aisles. You make sure that is always "
                    "safe, and that we can prove it.</p><ul><li>Own the safety concept of our "
                    "robot platform</li><li>Lead hazard analyses and safety cases with notified "
                    "bodies</li><li>Coach engineering teams in safe design</li></ul>",
                ),
                (
                    "Your profile",
                    "<ul><li>More than fifteen years in functional safety for machinery or "
                    "vehicles</li><li>In-depth knowledge of ISO 13849, IEC 61508 and EN ISO 3691-4"
                    "</li><li>Experience as a safety assessor is a plus</li></ul>",
                ),
                _OFFER_DE_EN,
            ),
        ),
        de=(
            "Principal Functional Safety Engineer (m/w/d)",
            (
                (
                    "Deine Aufgaben",
                    "<p>Roboter und Menschen teilen sich dieselben Gänge. Du sorgst dafür, dass "
                    "das immer sicher ist – und dass wir es nachweisen können.</p><ul><li>Du "
                    "verantwortest das Sicherheitskonzept unserer Roboterplattform</li><li>Du "
                    "leitest Gefährdungsanalysen und Sicherheitsnachweise mit benannten Stellen"
                    "</li><li>Du coachst Entwicklungsteams in sicherem Design</li></ul>",
                ),
                (
                    "Dein Profil",
                    "<ul><li>Mehr als fünfzehn Jahre Erfahrung in funktionaler Sicherheit für "
                    "Maschinen oder Fahrzeuge</li><li>Vertiefte Kenntnisse der ISO 13849, IEC "
                    "61508 und EN ISO 3691-4</li><li>Erfahrung als Safety Assessor ist ein "
                    "Plus</li></ul>",
                ),
                _OFFER_DE_DE,
            ),
        ),
        subcompany=_GMBH,
        office="Munich",
        department="Engineering",
        recruiting_category="Engineering",
        employment_type="permanent",
        seniority="experienced",
        schedule="full-time",
        years_of_experience="gt-15",
        keywords=("ISO 13849", "IEC 61508", "Safety"),
        occupation="general_and_other_quality_assurance_and_safety",
        # Personio's own code has this spelling (docs/personio.md §1.3 occupation code list).
        occupation_category="quality_assurance_and_saftey",
        created_at=_at("2026-06-11T11:11:11"),
    ),
    _job(
        1843801,
        en=(
            "Open Application",
            (
                (
                    "Your application",
                    "<p>You did not find the right role but want to help build the future of "
                    "logistics? Tell us what you are great at and where you would like to "
                    "work.</p>",
                ),
                (
                    "What matters to us",
                    "<ul><li>Curiosity and the will to learn</li><li>Respect for colleagues and "
                    "customers</li><li>Taking responsibility for results</li></ul>",
                ),
                _ABOUT_EN,
            ),
        ),
        de=(
            "Initiativbewerbung",
            (
                (
                    "Deine Bewerbung",
                    "<p>Du hast nicht die passende Stelle gefunden, willst aber die Zukunft der "
                    "Logistik mitgestalten? Erzähl uns, was du besonders gut kannst und wo du "
                    "arbeiten möchtest.</p>",
                ),
                (
                    "Was uns wichtig ist",
                    "<ul><li>Neugier und Lust, Neues zu lernen</li><li>Respekt gegenüber "
                    "Kolleg*innen und Kunden</li><li>Verantwortung für Ergebnisse</li></ul>",
                ),
                _ABOUT_DE,
            ),
        ),
        # No department, recruitingCategory or experience: open applications often lack them.
        office="Remote",
        employment_type="permanent",
        schedule="full-or-part-time",
        created_at=_at("2026-06-01T08:00:00"),
    ),
)


def sample_positions(language: str) -> list[Position]:
    """The sample board in one language ("en" or "de"); other languages have no jobs."""
    return [job[language] for job in _JOBS if language in job]


def sample_feeds() -> dict[str, list[Position]]:
    """Both sample boards keyed by language, the sandbox's default content."""
    return {language: sample_positions(language) for language in LANGUAGES}


# Synthetic boards for benchmarks: thousands of varied, realistic-sized positions (1-3 KB of
# HTML in three blocks each), reproducible from a seed so two runs measure the same work.

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
