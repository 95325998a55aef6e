"""Builds seed_messages.jsonl from the hand-written phrases below.

    .venv/bin/python scoring/data/build_seed.py

Every phrase was written by the Artemis engineers for this project (see README.md beside this
file). Each is then varied deterministically (chat spelling, case, openers, closers) so the
model learns the *function* of a message across spellings, not one exact wording. Content
rule: never graphic, never sexual content about minors; sexual_content lines stay mild.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "seed_messages.jsonl"
HARD_NEGATIVE_LINES = 2200

GROOMING: dict[str, list[str]] = {
    "personal_info_probe": [
        "how old are you",
        "asl?",
        "what grade are you in",
        "which school do you go to",
        "where do you live",
        "what town are you from",
        "are you a boy or a girl",
        "how old r u exactly",
        "what's your real name",
        "what year were you born",
        "do you live near the park",
        "whats ur address",
        "what street do you live on",
        "what's your school called",
        "are you in middle school",
        "whats ur age",
        "tell me where you live",
        "what city r u in",
        "what's your full name",
        "do you have a phone number",
        "when is your birthday",
        "which class are you in",
        "r u still in school",
        "what do you look like",
        "how tall are you",
        "are you 12 or 13",
        "send me your location",
        "what part of town do u live in",
        "is your school the big one by the station",
        "what time does your school finish",
    ],
    "age_gap_normalisation": [
        "age is just a number",
        "im older but that doesnt matter",
        "ur really mature for ur age",
        "you act way older than your age",
        "people our age difference date all the time",
        "im 24 is that ok",
        "i dont care that ur young",
        "age doesnt matter when you connect",
        "you seem more grown up than girls my age",
        "we're not that far apart in age really",
        "dont worry about how old i am",
        "lots of people have older friends like me",
        "ur more mature than my friends honestly",
        "im a bit older hope thats cool",
        "the age thing is no big deal",
        "its legal where im from anyway",
        "nobody needs to know how old i am",
        "older guys just get you better",
        "you're too mature for kids your age",
        "i like that you're young and fun",
        "im 19 but i feel like your age",
        "age gaps are normal these days",
        "its fine that im older, we just talk",
        "you dont seem 13 at all",
    ],
    "trust_building": [
        "you're so beautiful",
        "i understand you like nobody else does",
        "ur so special to me",
        "you can tell me anything",
        "i'll always be here for you",
        "youre my favourite person",
        "no one gets me like you do",
        "you're amazing babe",
        "ur so pretty",
        "i really care about you",
        "you're my princess",
        "hey sweetie",
        "i trust you more than anyone",
        "you deserve someone who treats you right",
        "im the only one who really listens to you",
        "i think about you all day",
        "ur so cute",
        "you're perfect just the way you are",
        "you're smarter than everyone in your class",
        "love talking to you",
        "you make my day every time",
        "i feel like we have a real connection",
        "you're my best friend now",
        "i'd do anything for you",
        "ur gorgeous",
        "you're really special, you know that?",
    ],
    "supervision_check": [
        "are your parents home",
        "is anyone else there",
        "who can see your phone",
        "are you alone right now",
        "when do your parents go to bed",
        "does your mom check your phone",
        "is your door locked",
        "r u by yourself",
        "when will you be home alone",
        "does anyone read your messages",
        "is your dad around",
        "who else uses this computer",
        "are you in your room",
        "when do ur parents get back",
        "can anyone hear you",
        "is your mum watching",
        "does your brother go on your phone",
        "are they asleep yet",
        "do your parents know your password",
        "when is everyone out of the house",
        "can you talk without anyone seeing",
        "is the coast clear",
    ],
    "secrecy_request": [
        "don't tell anyone about us",
        "delete our chats",
        "this is our secret",
        "dont tell ur mom",
        "keep this between us",
        "your parents wouldn't understand",
        "delete this conversation after",
        "don't show anyone these messages",
        "if your parents find out we're in trouble",
        "no one can know we talk",
        "clear your history ok",
        "dont tell your friends about me",
        "promise you wont tell",
        "the police wouldn't get it",
        "hide the app from your mom",
        "erase these msgs",
        "dont mention me to ur dad",
        "our little secret ok",
        "if anyone asks say im a friend from school",
        "make sure nobody sees this",
        "turn on disappearing messages",
        "your mom cant find out about this",
        "we have to be careful nobody finds out",
        "dont screenshot anything",
    ],
    "exclusivity_isolation": [
        "only i get you",
        "your friends don't really care about you",
        "your parents don't understand you like i do",
        "you don't need them, you have me",
        "i'm the only one who's there for you",
        "your friends are just using you",
        "you should stop hanging out with them",
        "your mom is too strict, she doesnt get you",
        "nobody else matters but us",
        "they're jealous of what we have",
        "your family just holds you back",
        "you can't trust your friends",
        "i'm all you need",
        "forget them, talk to me",
        "your teachers don't care about you like i do",
        "no one will love you like i do",
        "you're better off without them",
        "only talk to me about this stuff",
        "your sister doesnt want whats best for you",
        "they'd never understand us",
        "i don't like you talking to other people",
    ],
    "sexual_content": [
        "have you ever kissed anyone",
        "ever had a boyfriend",
        "are you a virgin lol",
        "do you think about dating stuff",
        "what are you wearing",
        "we could talk about grown up stuff",
        "have you done anything with a boy",
        "do you like it when someone flirts with you",
        "ever been on a date",
        "i could teach you things",
        "what do you wear to bed",
        "do you want to learn about adult things",
        "have u ever been kissed properly",
        "are you ready for more than just talking",
        "bet you look cute in your pyjamas",
        "do you ever think about me that way",
        "we can talk about romantic stuff if you want",
        "have you had your first kiss yet",
        "do you like older boys like that",
        "tell me about your crushes",
        "wanna play a flirty game",
        "you're old enough to know about this stuff",
    ],
    "media_request": [
        "send me a pic",
        "can i see a photo of you",
        "turn on your webcam",
        "let's video call",
        "send a selfie",
        "show me what you look like",
        "can you send more pics",
        "take a picture for me",
        "facetime me",
        "send me a pic in your outfit",
        "go on cam",
        "i want to see you on video",
        "send a photo just for me",
        "show me your room on video",
        "send a pic rn",
        "can u send a full body pic",
        "post a pic for me only",
        "send a vid",
        "switch on your camera",
        "i need a new pic of you",
        "send one without your friends in it",
        "let me see you on cam tonight",
    ],
    "gifts_incentives": [
        "i'll buy you a new phone",
        "want some robux",
        "i can send you money",
        "i'll give you 1000 vbucks",
        "i can get you a gift card",
        "i'll pay for your game",
        "want me to buy you that skin",
        "i'll send you a present",
        "i can top up your account",
        "ill get you new shoes",
        "do u want a new iphone",
        "i'll pay your phone bill",
        "i'll buy you anything you want",
        "want some free gems",
        "i'll send cash if you do it",
        "i got you a surprise",
        "i can get you concert tickets",
        "ill give u my old ps5",
        "i'll transfer you 50 dollars",
        "i'll buy you makeup",
        "free battle pass if you want",
    ],
    "pressure_coercion": [
        "if you loved me you would",
        "you owe me after everything i did",
        "do it now",
        "don't make me angry",
        "i'll tell everyone if you don't",
        "you promised you would",
        "stop being a baby and do it",
        "i'll share our chats if you stop talking to me",
        "you have to do what i say",
        "i'll be really hurt if you don't",
        "answer me now",
        "why are you ignoring me, reply",
        "i'll show your parents the pics",
        "just do it already",
        "don't you dare block me",
        "you'll regret it if you tell",
        "i thought you were mature enough",
        "everyone else does it",
        "you're wasting my time",
        "i bought you stuff so you owe me",
        "do it or we're done",
        "i know where you live remember",
    ],
    "platform_migration": [
        "add me on snap",
        "what's your snapchat",
        "let's talk on whatsapp",
        "give me your number",
        "download telegram",
        "call me",
        "text me on my other number",
        "do you have kik",
        "move to discord dm",
        "lets switch to signal",
        "whats ur insta",
        "add me on instagram",
        "message me on wickr",
        "can i call you tonight",
        "here's my number, text me",
        "lets go to a private app",
        "this app is too public, lets move",
        "whats your phone number",
        "dm me somewhere else",
        "download this app so we can talk",
        "ring me later",
        "lets chat on skype instead",
    ],
    "meeting_arrangement": [
        "let's meet up",
        "can we meet this weekend",
        "i'll pick you up after school",
        "where can we meet",
        "i can drive to your town",
        "meet me at the park at 4",
        "i'll come to your house when your parents are out",
        "lets hang out irl",
        "i'll book a hotel near you",
        "can you sneak out tonight",
        "i'll wait at the bus stop",
        "what's the closest mall to you",
        "i'll buy you a train ticket to come see me",
        "meet me behind the school",
        "we should meet in person",
        "i'm coming to your city next week",
        "tell your mom you're at a friend's and meet me",
        "where should i pick you up",
        "come over to my place",
        "lets meet somewhere quiet",
        "i can be there in an hour",
        "send me your address and i'll come",
    ],
}

# Some grooming messages do two things at once.
COMBINED: list[tuple[str, list[str]]] = [
    ("add me on snap and send a pic", ["platform_migration", "media_request"]),
    ("delete this chat and dont tell ur mom", ["secrecy_request"]),
    ("are you alone? let's video call", ["supervision_check", "media_request"]),
    ("don't tell anyone and meet me at the park", ["secrecy_request", "meeting_arrangement"]),
    ("ur so pretty, send me a selfie", ["trust_building", "media_request"]),
    ("i'll buy you robux if you send a pic", ["gifts_incentives", "media_request"]),
    ("how old are you and where do you live", ["personal_info_probe"]),
    ("text me on whatsapp so your parents dont see", ["platform_migration", "secrecy_request"]),
    ("if you don't send it i'll tell everyone", ["pressure_coercion", "media_request"]),
    ("your parents don't get you, only i do", ["exclusivity_isolation"]),
    ("when are your parents out? i can come over", ["supervision_check", "meeting_arrangement"]),
    ("age is just a number, you're so mature", ["age_gap_normalisation", "trust_building"]),
    ("i'll pick you up, dont tell anyone", ["meeting_arrangement", "secrecy_request"]),
    ("give me your number and delete this app", ["platform_migration", "secrecy_request"]),
]

# Benign lines that look like a characteristic on the surface (hard negatives).
HARD_NEGATIVES: list[str] = [
    "don't tell dad, it's a surprise party",
    "dont tell mom about her birthday cake ok",
    "which school r u going to next year",
    "what grade is your little brother in now",
    "i'll give you 500 coins for that skin",
    "trade you my sword for 200 gems",
    "meet at the food court at 3",
    "lets meet at the mall after practice",
    "you played amazing today, proud of you",
    "great job on the test, you're so smart",
    "send me the pics from the trip",
    "can you send the photo of the whiteboard",
    "call me when you land",
    "text me when you get home safe",
    "my mom is home so i can't play loud",
    "is your mom picking us up",
    "how old is your brother",
    "how old is your dog now",
    "lets move this to discord for the raid",
    "add me on steam for the match",
    "keep it secret till the party, ok?",
    "delete the group chat meme, it's cringe lol",
    "don't tell anyone the ending of the movie",
    "spoiler alert, don't tell me who wins",
    "my parents are out so we're ordering pizza",
    "are your parents driving to the game",
    "the coach wants to meet the team at 5",
    "teacher said to meet in room 12",
    "my dad bought me a new phone",
    "grandma sent me 20 dollars for my birthday",
    "want to video call for the group project",
    "can we facetime with grandpa later",
    "you're my best friend, love you girl",
    "miss you bestie",
    "what's your address for the party invite? my mom is sending cards",
    "where is the match on saturday",
    "i'll pick you up after school, mom said its fine",
    "dad will pick us up at 6",
    "my brother is alone at home, should i go check",
    "are you home alone? mum asked if you want dinner",
    "delete that blurry pic of me lol",
    "only i know the wifi password haha",
    "you owe me 5 bucks from lunch",
    "do it now or we miss the bus",
    "don't be mad but i ate your fries",
    "stop ignoring the group chat, we need the slides",
    "i'll send you the money for the tickets",
    "i'll pay you back tomorrow",
    "webcam is broken for the class call",
    "turn on your camera for the zoom lesson please",
    "what time does school finish tomorrow",
    "what's the name of your school's team",
    "are you a boy or girl scout?",
    "send me a pic of your homework question",
    "my friends are jealous of my new shoes",
    "my parents don't understand memes at all lol",
    "keep this between us, but i think i failed math",
    "promise you wont tell anyone i cried at the movie",
    "want to come over to study at my place? my mom will be home",
    "i'll buy you a coffee next time",
    "free skins event in the game this weekend",
    "the police came to school to talk about road safety",
]

BENIGN_TOPICS: dict[str, list[str]] = {
    "games": [
        "gg that was close",
        "did you finish the new level",
        "my team keeps losing lol",
        "who's your main",
        "want to play ranked later",
        "the update broke my controller",
        "i finally beat the boss",
        "that glitch is so annoying",
        "we need one more for the squad",
        "lag is insane today",
        "new season drops friday",
        "i got a legendary drop",
    ],
    "school": [
        "did you do the math homework",
        "the science test was hard",
        "what did you get on the quiz",
        "i forgot my lunch again",
        "our teacher is sick today",
        "group project due monday",
        "can i copy the notes from history",
        "the essay is so long",
        "we have a field trip next week",
        "library closes at 5",
        "i hate presentations",
        "exams start next month",
    ],
    "sports": [
        "practice is at 6",
        "did you watch the match",
        "we won 3-1",
        "coach made us run laps",
        "my knee hurts from training",
        "the final is on sunday",
        "great goal last night",
        "i joined the swim team",
        "basketball tryouts are tomorrow",
        "the ref was terrible",
    ],
    "music": [
        "that song is stuck in my head",
        "did you hear the new album",
        "concert was amazing",
        "i'm learning guitar",
        "send me the playlist",
        "the chorus is so good",
        "piano lessons are boring",
        "who's your favourite band",
        "i saw them live last year",
    ],
    "family": [
        "dinner is ready",
        "mum says hi",
        "grandma is visiting this weekend",
        "we're going to the beach",
        "can you pick up milk",
        "my sister took my charger",
        "dad is cooking tonight",
        "we're watching a movie later",
        "my cousin had a baby",
        "the dog ate my sock",
    ],
    "work": [
        "meeting moved to 3pm",
        "can you review my draft",
        "the client called back",
        "i'll send the report tomorrow",
        "server is down again",
        "lunch at the usual place?",
        "who's on call this weekend",
        "the invoice is attached",
        "shift swap on friday?",
    ],
    "weather": [
        "it's raining so hard",
        "so cold today",
        "snow day tomorrow maybe",
        "it's so hot outside",
        "bring an umbrella",
        "the storm knocked the power out",
        "nice sunny day finally",
    ],
    "food": [
        "pizza or burgers",
        "i made pancakes",
        "that cafe is so good",
        "i'm starving",
        "the new taco place opened",
        "we're out of cereal",
        "want to bake cookies",
        "this soup is amazing",
        "i tried sushi for the first time",
    ],
    "shows": [
        "did you watch the last episode",
        "no spoilers please",
        "that show is so funny",
        "the new season is out",
        "i binged the whole series",
        "the ending was weird",
        "which character do you like",
        "that movie was too long",
    ],
    "pets": [
        "my cat knocked over my drink",
        "we got a puppy",
        "the hamster escaped again",
        "walking the dog now",
        "my fish died :(",
        "look at my cat sleeping",
    ],
    "plans": [
        "what are you doing later",
        "wanna go to the cinema",
        "i'm going shopping with my mom",
        "see you tomorrow",
        "running late sorry",
        "on my way",
        "i'll be there in 10",
        "what time is the party",
        "we're going camping",
        "bus is late again",
    ],
    "chat": [
        "lol",
        "haha same",
        "omg",
        "true",
        "idk",
        "nothing much, you?",
        "bored",
        "ok cool",
        "brb",
        "yeah",
        "no way",
        "that's funny",
        "good night",
        "morning",
        "hbu",
        "sure",
        "what's up",
        "not much",
        "same here",
        "sounds good",
    ],
}

# A child's replies: the child's own words describe the child; they never groom.
CHILD_REPLIES: list[str] = [
    "idk",
    "lol",
    "ok",
    "maybe",
    "haha",
    "my mom is home",
    "i have school tmrw",
    "why",
    "thats weird",
    "i guess",
    "not sure",
    "ok but why",
    "hmm",
    "yeah",
    "no",
    "i dont know",
    "i have to go soon",
    "my dad is calling me",
    "lol ur funny",
    "thanks",
    "really?",
    "k",
    "im not allowed",
    "i cant rn",
    "maybe later",
    "umm ok",
    "what do u mean",
    "brb dinner",
    "ok i guess",
    "im kinda scared",
    "do u promise",
    "that's nice",
    "sure",
    "haha stop",
    "i have homework",
    "ur sweet",
    "i dont have that app",
    "my phone is almost dead",
    "i need to ask my mom",
    "nah",
    "wait what",
    "i'm 13",
    "i live near the park",
    "omg",
]

# The shortest lines of any chat, which carry no characteristic at all: a model that has seen
# too few of them reads "u?" or "you there" as whatever "u" most often meant in training.
COMMON_FRAGMENTS: list[str] = [
    "u?", "you?", "and u?", "and you", "u", "you", "r u?", "are u?", "u there?", "you there?",
    "are you there?", "r u there", "still there?", "hello?", "hi", "hey", "hey u", "hi there",
    "what?", "what do you think?", "what do u think", "wat u mean?", "what do you mean",
    "i don't know", "i dont know", "dunno", "not sure", "maybe", "why?", "why not",
    "how come?", "really?", "seriously?", "for real?", "you sure?", "u sure", "i guess",
    "i see", "oh ok", "oh", "ah", "ahh ok", "cool", "nice", "nice one", "wow", "lol yeah",
    "yes", "no", "yeah", "yup", "no way", "no idea", "who?", "where?", "when?", "how?",
    "how so?", "like what?", "such as?", "go on", "and?", "so?", "so what", "whatever",
    "never mind", "forget it", "my bad", "sorry", "thanks", "thank you", "np", "ok thanks",
    "good", "good u?", "fine", "fine u?", "im good", "not much", "nothing much", "same here",
    "me too", "me neither", "you too", "u too", "it was nice talking to you", "nice talking",
    "see ya", "bye", "later", "cya", "take care", "what's up", "sup", "wassup", "whats new",
    "you're gone", "you left?", "i'm back", "back", "here", "i'm here", "still here",
    "what are you doing", "what u up to", "nothing", "just chilling", "bored", "im bored",
    "i can't believe this", "no way!", "that's crazy", "i wouldn't doubt it", "you decide",
    "up to you", "your call", "u decide", "whatever u want", "your turn", "ur turn",
]  # fmt: skip

# An adult asking a child to take clothes off, on camera or "where no one can see": mild in
# words, and never a child's own line. Written for the real-chat work, after a test found
# the model let such lines pass.
UNDRESSING_REQUESTS: list[str] = [
    "take ur jacket off for me on cam",
    "go on take the sweater off nobody is watching",
    "why dont u take that hoodie off lol just for me",
    "u should take ur top off its just us",
    "close ur door first then take it off",
    "take off ur hoodie i wanna see u better",
    "nobody will know if u take it off on cam",
    "take ur school jumper off and show me",
    "just take it off for a sec no one will see",
    "if u take ur shirt off ill send u robux",
]

EVERYONE_OPENS = frozenset(
    {
        "asl", "asl?", "a/s/l", "asl pls", "asl plz", "hey asl", "m or f", "m or f?", "age?",
        "age tho?", "ur age??", "girl?", "k cool wat age", "ok so asl then we can chat",
        "f or m?", "age", "sex?",
    }
)  # fmt: skip


def _bare(text: str) -> str:
    return " ".join(text.lower().split())


OPENERS = ["", "", "", "hey ", "so ", "ok ", "btw ", "um ", "hey, ", "also ", "lol ", "wait "]
CLOSERS = [
    "",
    "",
    "",
    " ?",
    " lol",
    " haha",
    " :)",
    " ok?",
    " pls",
    " rn",
    " tho",
    "!!",
    " ok",
    " x",
]
BENIGN_CLOSERS = ["", "", "", " lol", " haha", " :)", "!", " tbh", " fr", " omg", " xd"]
CHAT_SPELLING = [
    (r"\byou\b", "u"),
    (r"\byour\b", "ur"),
    (r"\byou're\b", "ur"),
    (r"\bare\b", "r"),
    (r"\bplease\b", "pls"),
    (r"\bbecause\b", "bc"),
    (r"\bpeople\b", "ppl"),
    (r"\bright now\b", "rn"),
    (r"\bwhat\b", "wat"),
    (r"\bdon't\b", "dont"),
    (r"\bi'll\b", "ill"),
    (r"\bi'm\b", "im"),
    (r"\bthe\b", "da"),
    (r"\bto\b", "2"),
    (r"\bfor\b", "4"),
    (r"\btonight\b", "2nite"),
    (r"\bokay\b", "k"),
]


def typo(text: str, rng: random.Random) -> str:
    """Swap two neighbouring letters in one word longer than four letters."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def vary(text: str, rng: random.Random, closers: list[str]) -> str:
    out = text
    for pattern, replacement in CHAT_SPELLING:
        if rng.random() < 0.45:
            out = re.sub(pattern, replacement, out)
    if rng.random() < 0.15:
        out = typo(out, rng)
    out = rng.choice(OPENERS) + out + rng.choice(closers)
    style = rng.random()
    if style < 0.15:
        out = out.capitalize()
    elif style < 0.2:
        out = out.upper()
    elif style < 0.3:
        out = out.replace("'", "")
    return out.strip()


def expand(
    phrases: list[str], want: int, rng: random.Random, closers: list[str]
) -> list[tuple[str, int]]:
    """The phrases as written, then variations until ``want`` distinct texts exist. Each text
    keeps the index of the phrase it came from, so a split can keep variants together."""
    seen: dict[str, int] = {p: i for i, p in enumerate(phrases)}
    attempts = 0
    while len(seen) < want and attempts < want * 50:
        attempts += 1
        i = rng.randrange(len(phrases))
        seen.setdefault(vary(phrases[i], rng, closers), i)
    return list(seen.items())


def build() -> list[dict[str, object]]:
    sys.path.insert(0, str(HERE))  # scoring/data is not a package; its phrase file sits here
    from phrases_benign_real import (
        ADULT_FLIRTING,
        EVERYDAY_ADULT_CHAT,
        GAMING_CHAT,
        RUN_ON_AND_FRAGMENTS,
        SCHOOL_CHAT,
        TECH_CHAT,
    )
    from phrases_hard import BENIGN_EXTRA, GROOMING_EXTRA, HARD_NEGATIVES_BY_LOOKALIKE
    from phrases_hard_real import (
        AGE_JOKES,
        CALLS_AND_PLANS,
        LETTING_DOWN_GENTLY,
        REASSURANCE,
        TECH_MARKUP,
        WISHES_AND_AFFECTION,
    )
    from phrases_more import BENIGN_MORE, GROOMING_MORE, HARD_NEGATIVES_MORE
    from phrases_real import CHILD_REPLIES_REAL, GROOMING_REAL
    from phrases_real2 import ANONYMOUS_ADULT_CHAT, CHILD_CONTEXT_BENIGN, GROOMING_CHILD_CONTEXT

    for key, more in GROOMING_MORE.items():
        GROOMING[key] = GROOMING[key] + more + GROOMING_EXTRA[key]
    # Openers every anonymous chat site uses, adults with adults, are not by themselves a
    # grooming probe: they stay benign, and "what school do u go to" or "how old r u
    # exactly" carry personal_info_probe.
    for phrases in (*GROOMING.values(), *GROOMING_REAL.values()):
        phrases[:] = [p for p in phrases if _bare(p) not in EVERYONE_OPENS]
    HARD_NEGATIVES.extend(HARD_NEGATIVES_MORE)
    for lookalikes in HARD_NEGATIVES_BY_LOOKALIKE.values():
        HARD_NEGATIVES.extend(lookalikes)
    BENIGN_TOPICS["more"] = BENIGN_MORE
    BENIGN_TOPICS["extra"] = BENIGN_EXTRA
    rng = random.Random(2012)
    records: list[dict[str, object]] = []
    for key, phrases in GROOMING.items():
        for text, i in expand(phrases, 170, rng, CLOSERS):
            records.append(
                {"text": text, "labels": [key], "kind": "grooming", "group": f"{key}:{i}"}
            )
    for n, (text, labels) in enumerate(COMBINED):
        for variant, _ in expand([text], 4, rng, CLOSERS):
            records.append(
                {"text": variant, "labels": labels, "kind": "grooming", "group": f"combined:{n}"}
            )
    for text, i in expand(HARD_NEGATIVES, HARD_NEGATIVE_LINES, rng, BENIGN_CLOSERS):
        records.append({"text": text, "labels": [], "kind": "hard_negative", "group": f"hard:{i}"})
    benign_phrases = [p for topic in BENIGN_TOPICS.values() for p in topic]
    for text, i in expand(benign_phrases, 2600, rng, BENIGN_CLOSERS):
        records.append({"text": text, "labels": [], "kind": "benign", "group": f"benign:{i}"})

    # Lines in the style of real chat (slang, no punctuation, run-on, one word), written for
    # the real-chat work: as typed, never varied, since their spelling is already the point.
    # Their group names the domain the generator draws a conversation's small talk from.
    def as_typed(texts: list[str], labels: list[str], kind: str, group: str) -> None:
        for i, text in enumerate(texts):
            records.append({"text": text, "labels": labels, "kind": kind, "group": f"{group}{i}"})

    for key, phrases in GROOMING_REAL.items():
        as_typed(phrases, [key], "grooming", f"real-{key}:")
    as_typed(UNDRESSING_REQUESTS, ["sexual_content"], "grooming", "real-sexual_content:u")
    for key, phrases in GROOMING_CHILD_CONTEXT.items():
        as_typed(phrases, [key], "grooming", f"real-{key}:c")
    as_typed(ADULT_FLIRTING, [], "hard_negative", "flirting:")
    # Everyday lines the model misread on real chat (phrases_hard_real.py).
    as_typed(REASSURANCE, [], "hard_negative", "adult:reassure")
    as_typed(WISHES_AND_AFFECTION, [], "hard_negative", "flirting:wish")
    as_typed(CALLS_AND_PLANS, [], "hard_negative", "adult:plan")
    as_typed(AGE_JOKES, [], "hard_negative", "adult:age")
    as_typed(LETTING_DOWN_GENTLY, [], "hard_negative", "anon:goodbye")
    as_typed(TECH_MARKUP, [], "hard_negative", "tech:markup")
    domains = {
        "child": [*CHILD_REPLIES, *CHILD_REPLIES_REAL],
        "common": COMMON_FRAGMENTS,
        "anon": [*ANONYMOUS_ADULT_CHAT, *sorted(EVERYONE_OPENS)],
        "caring": CHILD_CONTEXT_BENIGN,
        "tech": TECH_CHAT,
        "gaming": GAMING_CHAT,
        "school": SCHOOL_CHAT,
        "adult": EVERYDAY_ADULT_CHAT,
        "fragments": RUN_ON_AND_FRAGMENTS,
    }
    for domain, phrases in domains.items():
        as_typed(phrases, [], "benign", f"{domain}:")
    # A text that ended up under two kinds keeps its first (grooming wins over benign).
    unique: dict[str, dict[str, object]] = {}
    for record in records:
        unique.setdefault(str(record["text"]).lower(), record)
    return list(unique.values())


def main() -> None:
    records = build()
    with OUT.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} messages to {OUT}")


if __name__ == "__main__":
    main()
