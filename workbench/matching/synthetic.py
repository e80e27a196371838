"""Synthetic screening input for `workbench bench matching`: a county property roll, not a list remix.

A real roll is mostly owners who are on no list: Anglo and Hispanic people written either
``Given Surname`` or ``SURNAME, Given``, and companies with LLC / INC / S.A. DE C.V. People own
several parcels, so owners repeat. A small share of rows are planted variants of listed names (a
typo, a dropped second surname, a diminutive, a swapped order, another spelling of the legal form),
which screening should find. The name vocabularies below are common first names and surnames of
the U.S. and Mexico, never names taken from a sanctions list.

When the OFAC data is absent the bench screens against a generated watchlist drawn from the same
vocabularies, so the throughput figures can still be produced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from workbench.matching.data.names import DIMINUTIVES

ANGLO_GIVEN = """james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick
raymond jack dennis jerry tyler aaron henry douglas peter adam nathan zachary walter kyle harold carl arthur gerald
roger keith jeremy lawrence terry sean christian albert joe ethan austin jesse willie billy bryan bruce jordan ralph
roy noah dylan eugene wayne alan juan louis russell gabriel randy philip harry vincent bobby johnny logan mary
patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley kimberly
emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen amy angela
shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet catherine
maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea
cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy sophia
grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte marie kayla
alexis lori""".split()  # noqa: SIM905

ANGLO_SURNAMES = """smith johnson williams brown jones miller davis wilson anderson taylor thomas moore martin
jackson thompson white harris clark lewis robinson walker young allen king wright scott green baker adams nelson hill
campbell mitchell roberts carter phillips evans turner parker collins edwards stewart morris murphy cook rogers
morgan peterson cooper reed bailey bell kelly howard ward cox richardson wood watson brooks bennett gray james
hughes price sanders myers long ross foster powell jenkins perry russell sullivan butler barnes fisher henderson
coleman simmons patterson jordan reynolds hamilton graham wallace west cole hayes bryant gibson ellis stevens
murray ford marshall owens mcdonald harrison kennedy wells alexander tucker porter hunter hicks crawford henry boyd
mason kennedy warren dixon burns gordon shaw holmes rice robertson hunt black daniels palmer mills nichols grant
knight ferguson stone hawkins dunn perkins hudson spencer stephens pierce lawrence olson carroll duncan armstrong
berry andrews johnston ray lane riley carpenter weaver greene lawson elliott chapman oliver montgomery richards
williamson peters schmidt fuller lynch dean gilbert garrett romero welch larson frazier burke hanson day mendoza
moreno bowman medina fowler brewer hoffman carlson silva pearson holland douglas fleming jensen vargas byrd davidson
hopkins may terry herrera wade soto walters curtis neal caldwell lowe jennings barnett graves jimenez horton shelton
barrett obrien castro sutton gregory mckinney lucas miles craig rodriquez chambers holt lambert fletcher watts bates
hale rhodes pena beck newman haynes mcdaniel mendez bush vaughn parks dawson santiago norris hardy love steele curry
powers schultz barker guzman page munoz ball keller chandler weber leonard walsh lyons ramsey wolfe schneider
mullins benson sharp bowen daniel barber cummings hines baldwin griffith valdez hubbard salazar reeves warner
stevenson burgess santos tate cross garner mann mack moss thornton dennis mcgee farmer delgado aguilar vega glover
manning cohen harmon rodgers robbins newton todd blair higgins ingram reese cannon strickland townsend potter goodwin
walton rowe hampton ortega patton swanson joseph francis goodman maldonado yates becker erickson hodges rios conner
adkins webster norman malone hammond flowers cobb moody quinn blake maxwell pope floyd osborne paul mccarthy
guerrero lindsey estrada sandoval gibbs tyler gross fitzgerald stokes doyle sherman saunders wise colon gill alvarado
greer padilla simon waters nunez ballard schwartz mcbride houston christensen klein pratt briggs parsons mclaughlin
zimmerman french buchanan moran copeland roy pittman brady mccormick holloway brock poole frank logan owen bass marsh
drake wong jefferson park morton abbott sparks patrick norton huff clayton massey lloyd figueroa carson bowers
roberson barton tran lamb harrington casey boone cortez clarke mathis singleton wilkins cain bryan underwood hogan
mckenzie collier luna phelps mcguire allison bridges wilkerson nash summers atkins""".split()  # noqa: SIM905

HISPANIC_GIVEN = """jose juan luis carlos jesus miguel francisco antonio alejandro manuel pedro jorge ricardo
fernando roberto javier eduardo rafael sergio daniel arturo raul mario alberto enrique ramon hector oscar victor
martin salvador guillermo alfredo gerardo ruben adrian andres pablo hugo ignacio gustavo rodolfo armando ernesto
cesar julio jaime felipe alfonso joaquin santiago ismael gilberto rogelio abel agustin emilio rigoberto gabriel
ramiro octavio humberto leonardo marco angel diego israel ivan omar saul tomas margarito heriberto reyes maria
guadalupe juana margarita josefina veronica leticia rosa francisca teresa alicia patricia elizabeth gabriela
alejandra martha yolanda adriana silvia claudia laura araceli sandra norma irma lucia angelica carmen graciela
beatriz rocio cecilia elena esperanza isabel dolores mercedes pilar rosario consuelo concepcion sofia valeria
ximena daniela fernanda mariana andrea paola monica""".split()  # noqa: SIM905

HISPANIC_SURNAMES = """hernandez garcia martinez lopez gonzalez perez rodriguez sanchez ramirez cruz flores gomez
morales vazquez reyes jimenez torres diaz gutierrez ruiz mendoza aguilar ortiz moreno castillo romero alvarez
mendez chavez rivera juarez ramos dominguez herrera medina castro vargas guzman velazquez munoz rojas contreras
salazar luna ortega santiago guerrero estrada bautista cortes soto alvarado espinoza lara avila rios cervantes
silva delgado vega marquez sandoval fernandez leon carrillo ibarra navarro campos cabrera nunez pena molina
miranda acosta valdez rosas trejo solis salinas escobar zamora camacho figueroa mejia sosa padilla rosales
fuentes maldonado villanueva galvan orozco calderon pacheco cardenas barrera valencia aguirre serrano ochoa
meza bravo villa navarrete ayala robles vera benitez esquivel zuniga duran tapia cisneros pineda gallegos
velasco arellano beltran fonseca palma trevino""".split()  # noqa: SIM905

COMPANY_WORDS = """acme pioneer summit harbor oak maple cedar river valley sunrise desert mesa canyon eagle
falcon liberty heritage frontier coastal northern southern western eastern golden silver crystal blue green red
prime first united american pacific atlantic lone star bay ridge pine willow aspen sierra vista alta del sol luna
monte rio bravo norte sur casa verde agua fresca tierra nueva santa rosa san jose real estate properties
holdings investments ventures partners capital land homes development builders construction farms ranch
management realty group trust enterprises solutions services logistics transport supply industries
inmobiliaria constructora comercializadora servicios grupo desarrollos agricola ganadera transportes
""".split()  # noqa: SIM905

COMPANY_FORMS = ("LLC", "L.L.C.", "INC", "INC.", "CORP", "CO", "LTD", "LP", "S.A. DE C.V.", "S. DE R.L. DE C.V.",
                 "SA DE CV", "S.A.", "TRUST", "")

# Legal forms written two ways, for planted variants of listed companies.
_FORM_SWAPS = (("S.A. DE C.V.", "SOCIEDAD ANONIMA DE CAPITAL VARIABLE"), ("SA DE CV", "S.A. DE C.V."),
               ("LLC", "L.L.C."), ("LIMITED LIABILITY COMPANY", "LLC"), ("INC", "INCORPORATED"),
               ("LTD", "LIMITED"), ("CO.", "COMPANY"), ("CORP", "CORPORATION"))

_DIMINUTIVE_OF: dict[str, list[str]] = {}
for _short, _longs in DIMINUTIVES.items():
    for _long in _longs:
        if " " not in _long:
            _DIMINUTIVE_OF.setdefault(_long, []).append(_short)


@dataclass(slots=True)
class RollRow:
    name: str
    schema: str | None
    planted_id: str | None = None  # the watchlist record a planted variant was made from
    variation: str = ""


def _person(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        given = rng.choice(HISPANIC_GIVEN)
        if rng.random() < 0.35:
            given += " " + rng.choice(HISPANIC_GIVEN)
        surnames = [rng.choice(HISPANIC_SURNAMES)]
        if rng.random() < 0.6:
            surnames.append(rng.choice(HISPANIC_SURNAMES))
    else:
        given = rng.choice(ANGLO_GIVEN)
        if rng.random() < 0.3:
            given += " " + rng.choice("abcdefghjklmnprstw").upper()
        surnames = [rng.choice(ANGLO_SURNAMES)]
    if rng.random() < 0.5:
        return f"{' '.join(surnames).upper()}, {given.title()}", "Person"
    return f"{given.upper()} {' '.join(surnames).upper()}", "Person"


def _company(rng: random.Random) -> tuple[str, str]:
    words = rng.sample(COMPANY_WORDS, rng.randint(1, 3))
    if rng.random() < 0.3:
        words.insert(0, rng.choice(ANGLO_SURNAMES + HISPANIC_SURNAMES))
    form = rng.choice(COMPANY_FORMS)
    return (" ".join(words) + (" " + form if form else "")).upper(), "Company"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    letter = rng.choice("aeiourslnt")
    return word[:i] + (letter.upper() if word[i].isupper() else letter) + word[i + 1:]


def plant(name: str, schema: str | None, rng: random.Random) -> tuple[str, str]:
    """A realistic variant of a listed name, and what was changed."""
    if "," in name and schema == "Person":
        family, _, given = (p.strip() for p in name.partition(","))
        fam, giv = family.split(), given.split()
        options = ["swap", "typo"]
        if len(fam) >= 2:
            options.append("drop second surname")
        if any(w.lower() in _DIMINUTIVE_OF for w in giv):
            options.append("diminutive")
        op = rng.choice(options)
        if op == "drop second surname":
            fam = fam[:1]
        elif op == "diminutive":
            k = next(i for i, w in enumerate(giv) if w.lower() in _DIMINUTIVE_OF)
            giv[k] = rng.choice(_DIMINUTIVE_OF[giv[k].lower()]).title()
        elif op == "typo":
            words = fam + giv
            k = rng.randrange(len(words))
            words[k] = _typo(words[k], rng)
            fam, giv = words[:len(fam)], words[len(fam):]
        # Owners on a roll are mostly written given name first.
        if op == "swap" or rng.random() < 0.5:
            return " ".join(giv + fam), op
        return f"{' '.join(fam)}, {' '.join(giv)}", op
    upper = name.upper()
    for a, b in _FORM_SWAPS:
        if upper.endswith((" " + a, ", " + a)):
            return name[: len(name) - len(a)] + b, "legal form"
    words = name.split()
    if len(words) >= 2 and rng.random() < 0.5:
        rng.shuffle(words)
        return " ".join(words), "reordered"
    k = max(range(len(words)), key=lambda i: len(words[i]))
    words[k] = _typo(words[k], rng)
    return " ".join(words), "typo"


def property_roll(records, n: int, seed: int = 7, planted_share: float = 0.01,
                  repeat_share: float = 0.3) -> list[RollRow]:
    """``n`` owner rows; records are the watchlist's (id, primary, aliases, schema) tuples."""
    rng = random.Random(seed)
    listed = [r for r in records if r[1]]
    rows: list[RollRow] = []
    for _ in range(n):
        roll = rng.random()
        if rows and roll < repeat_share:
            rows.append(rows[rng.randrange(len(rows))])
            continue
        if rng.random() < planted_share / (1 - repeat_share):
            rid, primary, aliases, schema = rng.choice(listed)
            source = primary if not aliases or rng.random() < 0.7 else rng.choice(aliases)
            name, how = plant(source, schema, rng)
            rows.append(RollRow(name, None, rid, how))
        else:  # a roll has no schema column: the name alone tells person from company
            rows.append(RollRow((_person(rng) if rng.random() < 0.8 else _company(rng))[0], None))
    return rows


def write_property_roll_csv(path, n: int, seed: int = 5) -> None:
    """A FICTIONAL county roll of ``n`` parcels in the columns of the shipped county mapping
    (fixtures/mappings/county_property_roll.yml), for timing table imports. A third of the owners
    hold several parcels, as on real rolls."""
    import csv

    rng = random.Random(seed)
    owners: list[tuple[str, str, str]] = []
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["APN", "SITUS_ADDRESS", "OWNER_TYPE", "OWNER_NAME", "OWNER_MAILING_ADDRESS", "DEED_DATE",
                      "SALE_PRICE"])
        for i in range(n):
            if owners and rng.random() < 0.3:
                owner = rng.choice(owners)
            else:
                name, schema = _person(rng) if rng.random() < 0.8 else _company(rng)
                owner = ("P" if schema == "Person" else "C", f"FICTIONAL {name}",
                         f"{rng.randint(1, 9999)} Pretend Plaza, Fictionville, TX 79999")
                owners.append(owner)
            out.writerow([f"FICT-{i // 10000:03d}-{i % 10000:04d}", f"{i + 1} Imaginary Lane, Fictionville, TX 79999",
                          *owner[:2], owner[2],
                          f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1990, 2025)}",
                          rng.randint(50, 2000) * 1000])


def generated_watchlist(n_names: int = 40_000, seed: int = 3) -> list[tuple[str, str, list[str], str]]:
    """A stand-in watchlist when the OFAC files are absent: (id, primary, aliases, schema)."""
    rng = random.Random(seed)
    records = []
    count = 0
    while count < n_names:
        if rng.random() < 0.7:
            name, schema = _person(rng)
            if "," not in name:
                words = name.split()
                name = f"{' '.join(words[1:])}, {words[0].title()}"
        else:
            name, schema = _company(rng)
        aliases = [plant(name, schema, rng)[0]] if rng.random() < 0.3 else []
        records.append((f"g{len(records)}", name, aliases, "Person" if schema == "Person" else "Organization"))
        count += 1 + len(aliases)
    return records
