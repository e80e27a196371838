"""Vocabularies for workbench.matching.normalize. Keys and values are folded (lower-case ASCII)."""

# Diminutive / hypocoristic -> the given name(s) it stands for. A name may map to several.
DIMINUTIVES: dict[str, tuple[str, ...]] = {
    "chuy": ("jesus",), "chucho": ("jesus",), "chuyito": ("jesus",),
    "pepe": ("jose",), "pepito": ("jose",), "chepe": ("jose",), "che": ("jose",),
    "chema": ("jose maria",), "josema": ("jose maria",),
    "nacho": ("ignacio",),
    "lalo": ("eduardo",),
    "memo": ("guillermo",),
    "paco": ("francisco",), "pancho": ("francisco",), "curro": ("francisco",), "frank": ("francisco",),
    "kiko": ("francisco", "enrique"),
    "chava": ("salvador",), "chavo": ("salvador",),
    "poncho": ("alfonso",),
    "lupe": ("guadalupe",), "lupita": ("guadalupe",),
    "beto": ("roberto", "alberto", "humberto", "norberto", "heriberto"),
    "tono": ("antonio",), "tony": ("antonio", "anthony"),
    "quique": ("enrique",), "kike": ("enrique",),
    "rafa": ("rafael",),
    "lola": ("dolores",), "loli": ("dolores",),
    "concha": ("concepcion",), "conchita": ("concepcion",),
    "charo": ("rosario",), "chayo": ("rosario",),
    "chelo": ("consuelo", "marcelo"),
    "meche": ("mercedes",),
    "nando": ("fernando",), "fer": ("fernando",),
    "goyo": ("gregorio",),
    "licha": ("alicia",),
    "chabela": ("isabel",), "chabelo": ("isabel",),
    "juancho": ("juan",), "juanito": ("juan",),
    "manolo": ("manuel",), "manu": ("manuel",),
    "tere": ("teresa",),
    "alex": ("alejandro", "alexander"), "ale": ("alejandro", "alejandra"),
    "tacho": ("anastasio",),
    "cuco": ("refugio",), "cuca": ("refugio",),
    "chencho": ("crescencio", "inocencio"),
    "nico": ("nicolas",),
    "rigo": ("rigoberto",),
    "toncho": ("antonio",),
    "pili": ("pilar",),
    "maru": ("maria eugenia",),
    "male": ("maria elena",),
    "mayte": ("maria teresa",), "maite": ("maria teresa",),
    "marisa": ("maria luisa",),
    "chente": ("vicente",),
    "chon": ("encarnacion", "asuncion"),
    "chucha": ("jesus",),
    "fito": ("adolfo", "rodolfo"),
    "javi": ("javier",),
    "santi": ("santiago",),
    "migue": ("miguel",),
    "rulo": ("raul",),
    "moncho": ("ramon",),
    "bill": ("william",), "billy": ("william",), "will": ("william",),
    "bob": ("robert",), "bobby": ("robert",), "rob": ("robert",),
    "jim": ("james",), "jimmy": ("james",),
    "mike": ("michael",),
    "dave": ("david",),
    "tom": ("thomas",), "tommy": ("thomas",),
    "joe": ("joseph",),
    "dick": ("richard",), "rick": ("richard",),
    "ed": ("edward",), "eddie": ("edward", "eduardo"),
    "chris": ("christopher", "cristobal"),
    "nick": ("nicholas",),
    "sam": ("samuel",),
    "andy": ("andrew",),
    "dan": ("daniel",), "danny": ("daniel",),
    "kate": ("katherine",),
    "liz": ("elizabeth",),
    "paty": ("patricia",), "pati": ("patricia",), "patty": ("patricia",), "patti": ("patricia",),
    "pato": ("patricio",),
    "lety": ("leticia",), "ceci": ("cecilia",), "gaby": ("gabriela",), "vero": ("veronica",),
    "susy": ("susana",), "chela": ("graciela",), "nati": ("natalia",), "pepa": ("josefa",),
    "paca": ("francisca",), "paquita": ("francisca",), "panchita": ("francisca",),
    "lencho": ("lorenzo",), "neto": ("ernesto",), "wicho": ("luis",), "licho": ("luis",),
    "betty": ("elizabeth",), "peggy": ("margaret",), "maggie": ("margaret",), "jerry": ("gerald",),
    "larry": ("lawrence",), "steve": ("steven", "stephen"), "matt": ("matthew",), "tim": ("timothy",),
    "jeff": ("jeffrey",), "greg": ("gregory",), "ron": ("ronald",), "ken": ("kenneth",),
    "sue": ("susan",), "jenny": ("jennifer",), "kathy": ("katherine",), "cathy": ("catherine",),
    "debbie": ("deborah",), "cindy": ("cynthia",), "sandy": ("sandra",), "vicky": ("victoria",),
    "tavo": ("gustavo",), "chago": ("santiago",), "chequel": ("ezequiel",), "checo": ("sergio",),
    "chalo": ("gonzalo",),
    "ben": ("benjamin",), "charlie": ("charles",), "chuck": ("charles",), "johnny": ("john",),
    "jack": ("john",), "fred": ("frederick",), "pete": ("peter",), "phil": ("philip",),
}

# Given names as Mexican documents abbreviate them ('Ma. Teresa', 'Fco. Javier', 'Ma. de Gpe.'): read
# like diminutives, but kept apart from them (generated test rolls plant diminutives, not these).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "ma": ("maria",), "fco": ("francisco",), "gpe": ("guadalupe",),
}
SHORT_FORMS: dict[str, tuple[str, ...]] = {**DIMINUTIVES, **ABBREVIATIONS}

# Common Spanish given names, by the sex they name when they stand first, both forms where a name has
# two (Mario / María): the masculine and feminine forms of a given name are a brother and a sister,
# while the same o/a difference in a surname or a company's word is a typo or an adjective's agreement
# (GARCIO, MEXICANA). The rule itself is a pattern (score.gendered_pair): these lists only add the
# forms it cannot read off the ending, and tell a man's compound name from a woman's (José María /
# María José, score.other_sex_compound).
MASCULINE_GIVEN_NAMES: frozenset[str] = frozenset("""
jose juan luis carlos jesus miguel francisco antonio alejandro manuel pedro jorge ricardo fernando roberto
javier eduardo rafael sergio daniel arturo raul mario alberto enrique ramon hector oscar victor martin
salvador guillermo alfredo gerardo ruben adrian andres pablo hugo ignacio gustavo rodolfo armando ernesto
cesar julio jaime felipe alfonso joaquin santiago ismael gilberto rogelio abel agustin emilio rigoberto
gabriel julian cristian ivan marco marcos octavio orlando patricio paulo paulino samuel saul tomas ulises
valentin vicente adolfo aurelio benito bernardo bruno camilo claudio cristobal dario diego domingo efrain
emiliano esteban eugenio fabian federico fidel genaro german gonzalo gregorio heriberto horacio humberto
jeronimo lorenzo luciano mariano mauricio nicolas norberto osvaldo simon teodoro valerio
""".split())
FEMININE_GIVEN_NAMES: frozenset[str] = frozenset("""
maria ana rosa laura elena patricia veronica leticia silvia adriana gabriela alejandra
claudia monica norma martha margarita lucia teresa josefina juana francisca antonia manuela daniela
fernanda julia paula mariana andrea beatriz isabel sofia valeria ximena yolanda angelica araceli cristina
diana erika karla liliana lorena marisol miriam nancy olga raquel sandra susana alicia blanca cecilia
dolores esperanza gloria irma marcela rocio victoria ivana jesusa roberta alberta ernestina emilia
cesarea fabiana federica gregoria juliana luciana mauricia nicolasa paulina simona valentina
""".split())
# Given names of either sex in Mexico (José Guadalupe, María Guadalupe): they tell no compound's sex.
EITHER_SEX_GIVEN_NAMES: frozenset[str] = frozenset("guadalupe carmen rosario refugio trinidad".split())
GIVEN_NAMES: frozenset[str] = MASCULINE_GIVEN_NAMES | FEMININE_GIVEN_NAMES | EITHER_SEX_GIVEN_NAMES

# Given names that a compound of the other sex takes as its second part: a man's José María or Jesús
# María (Chema, Josema), a woman's María José or María (de) Jesús. Standing first, each names one sex:
# a woman called María is not a man's José María (score.other_sex_compound).
CROSS_SEX_SECOND_NAMES: frozenset[str] = frozenset({"maria", "jose", "jesus"})

# Women's names that end in a consonant and are written with a final -a in another language, the same
# name (Isabel / Isabela, Susan / Susana, Karin / Karina): not a masculine form.
FEMININE_CONSONANT_NAMES: frozenset[str] = frozenset("""
isabel maribel mabel anabel raquel marisol carmen susan karin helen ellen miriam ester esther ruth ines
lourdes mercedes dolores rachel
""".split())

# Men's names that end in -a in their own language (Arabic, Slavic, Italian, Basque), whose -o form is
# another spelling of the same name (Tajik 'Mustafo', Serbian 'Danilo'), not a brother's name.
MASCULINE_NAMES_IN_A: frozenset[str] = frozenset("""
mustafa musa isa yahya hamza taha osama usama khalifa talha zakaria zakariya murtada abdulla nikita ilya
danila foma kuzma luca andrea nicola borja bautista
""".split())

# Distinct given names one or two letters apart, which spelling similarity would align: two people.
DISTINCT_GIVEN_NAMES: frozenset[frozenset[str]] = frozenset(frozenset(pair) for pair in (
    ("jose", "josue"), ("ismael", "israel"), ("mario", "marco"), ("raul", "saul"), ("elias", "elisa"),
    ("julio", "julian"), ("ramon", "ramiro"), ("adan", "adrian"), ("ivan", "ivana"), ("noe", "noel"),
))

# Spelling families that a phonetic key does not unite (transliteration, Spanish/English forms).
# Each tuple is one name in several spellings; the first is the canonical form.
VARIANT_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("mohammed", "muhammad", "mohamed", "mohammad", "mohamad", "muhamad", "muhammed", "mohd", "mohamud",
     "mouhamad", "mehmet", "muhamed"),
    ("ahmed", "ahmad", "ahmet"),
    ("hussein", "husain", "hussain", "husayn", "hossein", "husein"),
    ("abdul", "abdel", "abd", "abdoul"),
    ("yusuf", "youssef", "yousef", "yusef", "josef"),
    ("jose", "joseph", "giuseppe"),
    ("juan", "john", "johann", "giovanni", "jean"),
    ("pedro", "peter", "pierre", "pietro"),
    ("miguel", "michael", "michel"),
    ("guillermo", "william", "wilhelm"),
    ("enrique", "henry", "henri", "heinrich"),
    ("jaime", "james", "diego", "santiago"),
    ("esteban", "stephen", "steven", "stefan"),
    ("alejandro", "alexander", "alexandre", "aleksandr"),
    ("andres", "andrew", "andreas"),
    ("carlos", "charles", "karl"),
    ("cristobal", "christopher"),
    ("jorge", "george"),
    ("luis", "louis", "lewis", "ludwig"),
    ("mateo", "matthew", "mathieu"),
    ("tomas", "thomas"),
    ("felipe", "philip", "phillip"),
    # Common words of organisation names in Spanish and English ('CARTEL DE JALISCO NUEVA GENERACION' =
    # 'JALISCO NEW GENERATION CARTEL', 'CARTEL DEL GOLFO' = 'GULF CARTEL'): vocabulary, not names.
    ("nueva", "nuevo", "new"), ("generacion", "generation"), ("golfo", "gulf"),
    ("cartel", "organizacion", "organization", "organisation"),
)

# Words between name parts that carry no identity (Spanish, Portuguese, Italian, Dutch/German, Arabic).
PARTICLES: frozenset[str] = frozenset({
    "de", "del", "la", "las", "los", "y", "e", "da", "das", "do", "dos", "di", "du", "van", "von", "der",
    "den", "le", "and", "the", "of", "et", "und", "bin", "ibn", "bint", "al", "el",
})

# Prepositions inside organisation names ('FUNDACION PARA LA PAZ' / 'FUNDACION POR LA PAZ'): no identity.
ORG_PARTICLES: frozenset[str] = frozenset({"para", "por", "en", "con", "for"})

# Particles a surname is often written joined with ('DE LEON' / 'DELEON', 'DE LA CRUZ' / 'DELACRUZ'),
# as U.S. records do with Hispanic names; conjunctions are never joined.
JOINABLE_PARTICLES: frozenset[str] = frozenset({
    "de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "du", "van", "von", "der", "den", "le",
    "bin", "ibn", "al", "el",
})

# Words that say the surname after them is a married woman's husband's ('LOPEZ VDA. DE GARZA', 'Rosa Lopez
# viuda de Garza'): no part of her name, and what follows is read as a married name (normalize).
WIDOW_WORDS: frozenset[str] = frozenset({"vda", "viuda"})

# Particles that are part of an organisation's name ("EL PACHON") still carry no identity, but "el"/"al"
# inside Arabic person names are often written joined ("AL-ASSAD" / "ALASSAD"): both are dropped.

# Legal forms: folded token sequences -> canonical code. Longest sequences are tried first.
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "sa_cv": ("s a de c v", "sa de cv", "sociedad anonima de capital variable", "sociedad anomina de capital variable",
              "s a cv", "sa cv"),
    "srl_cv": ("s de r l de c v", "s de rl de cv", "sociedad de responsabilidad limitada de capital variable",
               "s r l de c v", "srl de cv"),
    "sapi_cv": ("s a p i de c v", "sapi de cv", "sociedad anonima promotora de inversion de capital variable"),
    "sab_cv": ("s a b de c v", "sab de cv", "sociedad anonima bursatil de capital variable"),
    "spr_rl": ("s p r de r l", "spr de rl", "sociedad de produccion rural de responsabilidad limitada"),
    "spr_ri": ("s p r de r i", "spr de ri", "sociedad de produccion rural de responsabilidad ilimitada"),
    "sc_rl": ("s c de r l", "sc de rl", "sociedad cooperativa de responsabilidad limitada"),
    "sa": ("s a", "sa", "sociedad anonima", "societe anonyme"),
    "sas": ("s a s", "sas", "sociedad por acciones simplificada"),
    "srl": ("s r l", "srl", "s de r l", "s de rl", "sociedad de responsabilidad limitada"),
    "ac": ("a c", "ac", "asociacion civil"),
    "sc": ("s c", "sc", "sociedad civil"),
    "eu": ("e u", "empresa unipersonal"),
    "llc": ("l l c", "llc", "limited liability company"),
    "lp": ("l p", "limited partnership"),
    "llp": ("l l p", "llp", "limited liability partnership"),
    "inc": ("inc", "incorporated"),
    "corp": ("corp", "corporation"),
    "ltd": ("ltd", "limited", "ltda", "limitada", "lda"),
    "co": ("co", "company", "compania", "cia"),
    "plc": ("plc", "public limited company"),
    "gmbh": ("gmbh",),
    "ag": ("ag",),
    "bv": ("b v", "bv"),
    "nv": ("n v", "nv"),
    "fze": ("fze",), "fzco": ("fzco",), "fzc": ("fzc",),
    "jsc": ("jsc", "ojsc", "cjsc", "pjsc", "ao", "oao", "zao", "pao"),
    "ooo": ("ooo",),
    "pte": ("pte",),
    "pvt": ("pvt", "private"),
    "sarl": ("s a r l", "sarl"),
    "spzoo": ("sp z o o", "spolka z ograniczona odpowiedzialnoscia"),
}

# Words that are common in organisation names and say little about which organisation it is.
GENERIC_ORG_WORDS: frozenset[str] = frozenset({
    "grupo", "group", "international", "internacional", "trading", "comercial", "comercializadora", "servicios",
    "services", "service", "industrial", "industries", "industria", "industrias", "holding", "holdings",
    "general", "global", "import", "export", "importadora", "exportadora", "corporacion", "empresa", "empresas",
    "inversiones", "investments", "investment", "enterprises", "enterprise", "development", "desarrollos",
    "desarrollo", "construcciones", "constructora", "inmobiliaria", "sociedad", "technology", "technologies",
    "tecnologia", "science", "partners", "management", "consulting", "consultores", "distribuidora", "logistics",
    "transportes", "transport", "agropecuaria", "farmaceutica", "pharmaceutical", "chemical", "chemicals",
    "quimica", "mexico", "mexicana", "de", "bank", "banco", "exchange", "casa", "cambio", "associates",
    "store", "shop", "tienda", "restaurante", "restaurant", "bar", "hotel", "club", "center", "centro",
    "factory", "fabrica", "manufacturing", "products", "productos", "network", "organization", "organizacion",
    "foundation", "fundacion", "institute", "instituto", "company", "firm", "cartel", "commerce", "comercio",
    "trade",
})

# Words that make a name of unknown type an organisation's, which an acronym may spell out. Without
# them, a roll owner such as 'SCOTT K BOYD' or 'REYES OROZCO CRUZ' matches any listed 'SKB' or 'ROC'.
ORG_SIGN_WORDS: frozenset[str] = GENERIC_ORG_WORDS | frozenset({
    "cartel", "army", "ejercito", "frente", "front", "movement", "movimiento", "party", "partido", "trust",
    "fund", "fondo", "brigade", "brigada", "organisation", "association", "asociacion", "union", "council",
    "consejo", "airlines", "aerolineas", "agency", "agencia", "bureau", "ministry", "ministerio", "committee",
    "comite", "forces", "fuerzas", "state", "estado",
})
