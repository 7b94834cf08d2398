"""Writes common-passwords-nl.txt.gz: passwords Dutch users choose often, for
accounts.validators.CommonPasswordValidator (next to Django's own English list).

There is no public Dutch list we may ship, so it is composed from what such lists show: a
common word or name (welkom, wachtwoord, voetbal, a club, a city, a pet, a first name) alone
or followed by the usual endings (1, 123, !, a year). Run it again after changing the words:
    python accounts/data/build_common_passwords.py
"""

import gzip
from pathlib import Path

WORDS = """
welkom wachtwoord paswoord wachtwoordje geheim inloggen toegang beheer beheerder gebruiker
school student leerling docent leraar juf meester klas examen toets rooster roc mbo
hallo hoi doei dag goedemorgen welterusten dankjewel alsjeblieft lekker gezellig
liefde lief schat schatje liefje lieverd knuffel kusjes hartje engel prinses prins koning
koningin ridder draak kabouter elf fee sprookje droom dromen geluk gelukkig vrijheid vrede
zomer winter lente herfst zon zonnetje zonneschijn regen sneeuw ster sterren maan hemel
strand zee water vakantie feest kerst kerstmis pasen sinterklaas carnaval verjaardag
voetbal hockey tennis korfbal volleybal basketbal schaatsen fietsen zwemmen dansen muziek
gitaar piano gamen gamer minecraft fortnite playstation xbox nintendo computer laptop
internet telefoon mobiel iphone samsung google youtube tiktok instagram snapchat
ajax feyenoord psv utrecht azalkmaar twente vitesse heerenveen groningen oranje
nederland holland amsterdam rotterdam denhaag eindhoven tilburg breda nijmegen arnhem
zwolle leiden haarlem maastricht almere apeldoorn enschede amersfoort dordrecht delft
hond hondje kat katje poes poesje konijn paard paardje pony vogel vis beer beertje
tijger leeuw aap aapje olifant vos wolf uil eend kip koe varken muis muisje hamster
appel banaan aardbei kers druif citroen peer perzik chocola chocolade snoep snoepje
koekje taart pizza patat friet kaas kaasje brood drop stroopwafel bier wijn koffie thee
mama papa mamma pappa oma opa broer zus zusje broertje familie gezin kinderen baby
vriend vriendin vrienden maatje buurman buurvrouw
rood blauw groen geel oranje paars roze zwart wit grijs goud zilver diamant
eenhoorn regenboog vlinder bloem bloemetje roos tulp zonnebloem boom bos tuin huis
thuis kasteel auto fiets trein vliegtuig boot raket motor scooter
sterk snel slim mooi knap stoer cool super top geweldig fantastisch
qwerty azerty asdfgh zxcvbn abcdef abcdefg abcdefgh letmein admin welcome password
""".split()

NAMES = """
daan sem lucas levi finn milan noah luuk jesse thomas tim bram ruben lars stijn max
thijs jayden julian sven jan piet kees henk gerrit johan peter mark dennis kevin rick
mohammed mohamed ahmed ali youssef mehmet emre
emma julia sophie tess zoe sara anna eva lisa lotte fleur sanne femke iris lieke noor
lina mila evi saar nina laura anouk kim romy demi naomi fatima aisha yasmine esra
maria ingrid marieke annemarie petra linda sandra monique
""".split()

ENDINGS = ["", "1", "12", "123", "1234", "12345", "!", "1!", "123!", "01", "007", "69", "99"]
YEARS = [str(y) for y in range(1990, 2031)] + [f"{y % 100:02d}" for y in range(1995, 2031)]


def candidates() -> set[str]:
    out = set()
    for word in dict.fromkeys(WORDS + NAMES):
        for ending in ENDINGS + YEARS:
            out.add(word + ending)
        for year in YEARS[:41]:
            out.add(word + year + "!")
    return {p for p in out if len(p) >= 6}


def main() -> None:
    path = Path(__file__).with_name("common-passwords-nl.txt.gz")
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(sorted(candidates())) + "\n")
    # gzip stamps the time into the header; clear it so the file only changes with its words.
    data = bytearray(path.read_bytes())
    data[4:8] = b"\0\0\0\0"
    path.write_bytes(bytes(data))


if __name__ == "__main__":
    main()
