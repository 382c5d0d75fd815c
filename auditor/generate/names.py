"""Word lists for the names a generated fleet uses: hosts, customers, users, devices.

Deterministic by index, so that the same seed always names the same things.
"""

from __future__ import annotations

FIRST_NAMES = (
    "maria", "ivan", "elena", "georgi", "anna", "peter", "sofia", "nikolai", "laura", "james",
    "olivia", "david", "emma", "lucas", "mia", "noah", "chloe", "liam", "zoe", "omar",
    "yuki", "carlos", "fatima", "henrik", "ingrid", "pavel", "daria", "tomas", "irena", "marco",
    "giulia", "samuel",
)  # 32 names

LAST_NAMES = (
    "ivanova", "petrov", "smith", "johnson", "mueller", "schmidt", "garcia", "rossi", "novak", "dimitrov",
    "georgieva", "brown", "taylor", "wilson", "martin", "bernard", "kowalski", "nielsen", "jensen", "costa",
    "silva", "tanaka", "kim", "walker", "young", "hughes", "obrien", "andersen", "horvat", "popescu",
    "stoyanova",
)  # 31 names: coprime with 32, so index -> (first, last) is unique for 992 users

HOST_WORDS = (
    "acme", "northwind", "globex", "initech", "umbrella", "stark", "wayne", "tyrell", "cyberdyne", "soylent",
    "hooli", "vandelay", "wonka", "gringotts", "oscorp", "aperture", "monarch", "nakatomi", "pied", "dunder",
    "blue", "green", "river", "stone", "oak", "maple", "cedar", "harbor", "summit", "delta",
    "apex", "nova", "orbit", "pixel", "quartz", "ember", "falcon", "zenith", "lumen", "atlas",
)

HOST_SUFFIXES = ("trading", "logistics", "foods", "textiles", "build", "motors", "pharma", "retail", "labs", "works")

CUSTOMER_SUFFIXES = ("Ltd", "GmbH", "LLC", "OOD", "S.A.", "Inc.", "AG", "EOOD", "SRL", "Oy")

ACCOUNT_MANAGERS = (
    "kalina.marinova@erp.net", "tom.reed@erp.net", "anna.berg@erp.net", "victor.lang@erp.net",
    "petya.koleva@erp.net", "sam.ortiz@erp.net",
)

DESKTOP_PREFIXES = ("DESKTOP", "LAPTOP", "WS", "NB")
MOBILE_DEVICES = ("iPhone", "Pixel", "Galaxy", "iPad")


def user_name(index: int) -> str:
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]}.{LAST_NAMES[index % len(LAST_NAMES)]}"


def host_name(index: int) -> str:
    """A unique host name for instance INDEX of a generated fleet."""
    word = HOST_WORDS[index % len(HOST_WORDS)]
    suffix = HOST_SUFFIXES[(index // len(HOST_WORDS)) % len(HOST_SUFFIXES)]
    cycle = index // (len(HOST_WORDS) * len(HOST_SUFFIXES))
    stem = f"{word}-{suffix}" if cycle == 0 else f"{word}-{suffix}-{cycle + 1}"
    return f"{stem}.my.erp.net"


def customer_name(index: int) -> str:
    word = HOST_WORDS[index % len(HOST_WORDS)].capitalize()
    suffix = HOST_SUFFIXES[(index // len(HOST_WORDS)) % len(HOST_SUFFIXES)].capitalize()
    legal = CUSTOMER_SUFFIXES[index % len(CUSTOMER_SUFFIXES)]
    cycle = index // (len(HOST_WORDS) * len(HOST_SUFFIXES))
    return f"{word} {suffix}{'' if cycle == 0 else f' {cycle + 1}'} {legal}"
