"""Writes testdata/eval/data/<task>.jsonl: evaluation items written for this project, in the exact
field layout of each task's Hugging Face dataset, so that lm-evaluation-harness and mobilellm4j read
them exactly as they read the real files.

The items are generated from the word lists and sentence patterns below (written for this project,
no text of the benchmark datasets) with a seeded random generator: the output is the same on every
run. Standard library only. Besides ordinary items, each task has items that exercise the harness's
preprocessing: HellaSwag's [title]/[step] tags, empty ctx_b, doubled spaces and capitalisation;
WinoGrande blanks followed by "'s" or starting a sentence; ARC items with 3 or 5 choices and numeric labels;
OpenBookQA stems ending in a space; non-ASCII text (byte fallback in small vocabularies).

    python3 reference/eval/make_items.py [--out testdata/eval/data] [--n 200]
"""
import argparse
import json
import os
import random

NAMES = ["Alice", "Bruno", "Carmen", "Deepak", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kofi",
         "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Viktor",
         "Wen", "Ximena", "Yusuf", "Zoë", "Amara", "Björn", "Chloé", "Dmitri"]

# --------------------------------------------------------------------------------------------------
# ARC: grade-school science questions
# --------------------------------------------------------------------------------------------------
CATEGORIES = {
    "mammal": ["dog", "whale", "bat", "horse", "rabbit", "dolphin", "elephant", "mouse"],
    "bird": ["robin", "penguin", "eagle", "owl", "sparrow", "ostrich", "parrot"],
    "insect": ["ant", "beetle", "butterfly", "grasshopper", "bee", "mosquito"],
    "fish": ["salmon", "trout", "shark", "goldfish", "tuna", "cod"],
    "reptile": ["snake", "lizard", "turtle", "crocodile", "gecko"],
    "metal": ["iron", "copper", "aluminum", "silver", "gold", "zinc"],
    "gas at room temperature": ["oxygen", "nitrogen", "helium", "carbon dioxide", "neon"],
    "renewable energy source": ["wind", "sunlight", "flowing water", "geothermal heat"],
    "planet": ["Mars", "Venus", "Jupiter", "Saturn", "Mercury", "Neptune"],
    "simple machine": ["lever", "pulley", "ramp", "wheel and axle", "wedge", "screw"],
}
TOOLS = [("mass", "a balance"), ("temperature", "a thermometer"), ("length", "a meter stick"),
         ("the volume of a liquid", "a graduated cylinder"), ("time", "a stopwatch"),
         ("air pressure", "a barometer"), ("wind speed", "an anemometer"), ("electric current", "an ammeter")]
CHANGES = [("ice", "heated", "It melts."), ("water vapor", "cooled", "It condenses."),
           ("liquid water", "frozen", "It becomes a solid."), ("a puddle", "warmed by the Sun", "It evaporates."),
           ("melted wax", "cooled", "It hardens."), ("an iron nail", "left in wet air", "It rusts."),
           ("dry ice", "warmed", "It sublimates into a gas."), ("a metal rod", "heated", "It expands slightly.")]
CHANGE_WRONG = ["It melts.", "It condenses.", "It becomes a solid.", "It evaporates.", "It hardens.", "It rusts.",
                "It gets heavier.", "It disappears completely.", "It turns into light.", "It expands slightly."]
CAUSES = [
    ("Why does the Moon appear to change shape during a month?",
     "Different parts of its lit side face Earth.", ["Clouds cover parts of it.", "Earth's shadow falls on it every night.",
                                                      "The Moon grows and shrinks.", "The Sun moves behind it."]),
    ("What causes day and night on Earth?", "Earth spins on its axis.",
     ["Earth orbits the Sun.", "The Sun orbits Earth every day.", "The Moon blocks the Sun.", "Clouds block sunlight."]),
    ("Which process do plants use to make food from sunlight?", "photosynthesis",
     ["respiration", "digestion", "condensation", "erosion"]),
    ("What is the main job of a plant's roots?", "to take in water and nutrients",
     ["to make seeds", "to attract insects", "to make food from light", "to release oxygen at night"]),
    ("Which of these best describes weathering?", "Rock is broken into smaller pieces.",
     ["Rock is carried away by a river.", "Sediment is pressed into rock.", "Magma cools into rock.",
      "Soil is planted with seeds."]),
    ("A student rubs a balloon on her hair, and her hair sticks to it. What causes this?", "static electricity",
     ["magnetism", "gravity", "friction heating the hair", "air pressure"]),
    ("Which change is a chemical change?", "wood burning in a fire",
     ["ice cream melting", "paper being cut", "water boiling", "glass breaking"]),
    ("Which organ pumps blood through the human body?", "the heart",
     ["the lungs", "the stomach", "the brain", "the liver"]),
    ("Why do we see lightning before we hear thunder?", "Light travels faster than sound.",
     ["Sound travels faster than light.", "Thunder happens later.", "Our ears are slower than our eyes.",
      "Clouds block the sound at first."]),
    ("Which layer of Earth do we live on?", "the crust", ["the mantle", "the outer core", "the inner core",
                                                         "the atmosphere"]),
]
UNITS = [("the distance between two cities", "kilometers", ["grams", "liters", "degrees Celsius", "seconds"]),
         ("the mass of an apple", "grams", ["kilometers", "liters", "newtons", "hours"]),
         ("the temperature of a cup of tea", "degrees Celsius (°C)", ["meters", "kilograms", "liters", "volts"]),
         ("the amount of water in a bathtub", "liters", ["meters", "grams", "seconds", "watts"]),
         ("how long a song lasts", "minutes", ["kilograms", "meters", "liters", "amperes"])]


def arc_items(rng, n, hard):
    items = []
    for i in range(n):
        kind = rng.randrange(5)
        if kind == 0:
            cat = rng.choice(sorted(CATEGORIES))
            right = rng.choice(CATEGORIES[cat])
            others = [w for c in sorted(CATEGORIES) if c != cat for w in CATEGORIES[c]]
            wrong = rng.sample(others, 4)
            article = "an" if cat[0] in "aeiou" else "a"
            q = ("Which of these is %s %s?" % (article, cat)) if not hard else \
                ("A student sorts living and nonliving things into groups. Which of these belongs with %s %s?"
                 % (article, cat) if cat in ("mammal", "bird", "insect", "fish", "reptile") else
                 "A science class lists examples of each group. Which example is %s %s?" % (article, cat))
        elif kind == 1:
            qty, right = rng.choice(TOOLS)
            wrong = rng.sample([t for q_, t in TOOLS if t != right], 4)
            q = ("Which tool is best for measuring %s?" % qty) if not hard else \
                ("%s wants to record %s during an experiment. Which tool should %s use?"
                 % (rng.choice(NAMES), qty, rng.choice(["she", "he", "they"])))
        elif kind == 2:
            thing, process, right = rng.choice(CHANGES)
            wrong = rng.sample([c for c in CHANGE_WRONG if c != right], 4)
            q = "What happens to %s when it is %s?" % (thing, process)
            if hard:
                q = "In an investigation, %s is %s for ten minutes. Which observation is most likely?" % (thing, process)
        elif kind == 3:
            q, right, wrong = rng.choice(CAUSES)
            wrong = list(wrong)
        else:
            what, right, wrong = rng.choice(UNITS)
            q = "Which unit is best for measuring %s?" % what
            wrong = list(wrong)
        k = rng.choices([3, 4, 5], weights=[1, 8, 1])[0]
        texts = [right] + rng.sample(wrong, k - 1)
        rng.shuffle(texts)
        numeric = rng.random() < 0.12
        labels = [str(j + 1) for j in range(k)] if numeric else ["ABCDE"[j] for j in range(k)]
        key = labels[texts.index(right)]
        prefix = "ARCCH" if hard else "ARCEZ"
        items.append({"id": "%s_%04d" % (prefix, i), "question": q,
                      "choices": {"text": texts, "label": labels}, "answerKey": key})
    return items


# --------------------------------------------------------------------------------------------------
# OpenBookQA: sentence completions about elementary science facts
# --------------------------------------------------------------------------------------------------
OBQA = [
    ("An animal that hibernates during winter", "slows its heartbeat to save energy",
     ["hunts more often", "grows new teeth", "sheds all of its bones"]),
    ("If a pot of soup is left on a hot stove, the soup will", "get warmer",
     ["freeze", "turn into sand", "become lighter than air"]),
    ("A magnet will most likely attract", "a steel paper clip", ["a wooden spoon", "a glass marble", "a rubber band"]),
    ("Plants in a dark closet will", "stop making food", ["grow faster", "turn into animals", "make more oxygen"]),
    ("The best way to keep a drink cold on a sunny day is to", "put it in an insulated bottle",
     ["paint the cup black", "leave it on the sidewalk", "stir it with a metal rod"]),
    ("When a river flows into a lake, the sand it carries", "settles to the bottom",
     ["floats into the sky", "turns into rock at once", "becomes salt"]),
    ("Someone wants to see a distant planet more clearly, so they use", "a telescope",
     ["a microscope", "a thermometer", "a compass"]),
    ("Bees help flowers by", "carrying pollen between them", ["eating their roots", "shading their leaves",
                                                              "making them taller"]),
    ("Sound travels fastest through", "steel", ["air", "empty space", "a vacuum"]),
    ("A seed needs water and warmth in order to", "sprout", ["melt", "rust", "evaporate"]),
    ("The Sun is a source of", "light and heat", ["cold and darkness", "ocean water", "metal ore"]),
    ("Fossils are most often found in", "sedimentary rock", ["lava", "clouds", "living trees"]),
    ("If you push a toy car harder, it will", "move faster", ["stop", "get smaller", "change color"]),
    ("Recycling aluminum cans helps to", "conserve natural resources", ["make more trash", "use more energy",
                                                                        "warm the oceans"]),
    ("Owls can hunt at night because they", "see well in dim light", ["glow in the dark", "sleep all night",
                                                                       "cannot fly"]),
]
OBQA_LEADS = ["", "Most likely, ", "Scientists agree that ", "In general, "]


def obqa_items(rng, n):
    items = []
    for i in range(n):
        stem, right, wrong = rng.choice(OBQA)
        lead = rng.choice(OBQA_LEADS)
        q = lead + (stem[0].lower() + stem[1:] if lead else stem)
        if rng.random() < 0.05:
            q += " "  # a stem ending in a space: the harness moves it into the continuation
        texts = [right] + list(wrong)
        rng.shuffle(texts)
        labels = ["A", "B", "C", "D"]
        items.append({"id": "%d-%03d" % (7000 + i, rng.randrange(1000)), "question_stem": q,
                      "choices": {"text": texts, "label": labels}, "answerKey": labels[texts.index(right)]})
    return items


# --------------------------------------------------------------------------------------------------
# BoolQ: a passage and a yes/no question about it
# --------------------------------------------------------------------------------------------------
PLACES = ["Marrow Creek", "the Alder Valley", "Port Senna", "the Kessel Plateau", "Lake Orun", "the Vireo Hills",
          "Saint-Amand", "the Tern Islands", "Grauberg", "the Ostra Canal"]
FEATURES = ["river", "bridge", "lighthouse", "railway", "library", "market", "observatory", "harbor"]
BUILDERS = ["a group of farmers", "the regional council", "two engineers from the capital", "a shipping company",
            "local volunteers", "the university"]


def boolq_items(rng, n):
    items = []
    for i in range(n):
        place = rng.choice(PLACES)
        feat = rng.choice(FEATURES)
        year = rng.randrange(1820, 1990)
        length = rng.randrange(2, 90)
        builder = rng.choice(BUILDERS)
        other = rng.choice([f for f in FEATURES if f != feat])
        open_now = rng.random() < 0.5
        passage = ("The %s of %s was built in %d by %s. It is about %d kilometres long and is one of the oldest "
                   "structures in the region. %s %s is %s, and visitors can %s. A smaller %s was added nearby "
                   "in %d." % (feat, place, year, builder, length, "Today the" if open_now else "Since a flood the",
                               feat, "open to the public" if open_now else "closed",
                               "walk along it in summer" if open_now else "only see it from a distance",
                               other, year + rng.randrange(5, 40)))
        if rng.random() < 0.1:
            passage = passage.replace("kilometres", "km").replace("It is", "It’s")
        kind = rng.randrange(4)
        if kind == 0:
            question, label = "is the %s of %s open to the public" % (feat, place.replace("the ", "")), int(open_now)
        elif kind == 1:
            asked = year + rng.choice([-30, -10, 0, 0, 15, 40])
            question, label = "was the %s built before %d" % (feat, asked), int(year < asked)
        elif kind == 2:
            question, label = "is there a %s near the %s" % (other, feat), 1
        else:
            question, label = "was the %s built by %s" % (feat, rng.choice(BUILDERS)), None
            label = int(builder in question)
        items.append({"question": question, "passage": passage, "idx": i, "label": label})
    return items


# --------------------------------------------------------------------------------------------------
# PIQA: a goal and two solutions
# --------------------------------------------------------------------------------------------------
PIQA = [
    ("keep bread from going stale", "Store it in a sealed bag at room temperature.",
     "Store it in an open bowl next to the oven."),
    ("clean a greasy pan", "Soak it in hot, soapy water, then scrub it with a sponge.",
     "Rinse it in cold water and leave it to dry in the sun."),
    ("open a jar with a tight lid", "Run the lid under hot water for a minute, then twist it.",
     "Put the jar in the freezer overnight, then twist it."),
    ("hang a picture straight", "Use a level on top of the frame before marking the wall.",
     "Use a ruler on the floor below the frame before marking the wall."),
    ("remove a splinter", "Clean the area, then pull the splinter out with tweezers.",
     "Cover the splinter with tape and push it in deeper."),
    ("dry wet shoes quickly", "Stuff them with newspaper and leave them in a warm, airy place.",
     "Put them in a closed plastic bag overnight."),
    ("make a paper airplane fly farther", "Fold the wings evenly and crease them sharply.",
     "Crumple the paper into a ball before throwing it."),
    ("keep cut apples from browning", "Brush the slices with lemon juice.", "Sprinkle the slices with sand."),
    ("sharpen a pencil without a sharpener", "Carefully shave the wood with a craft knife.",
     "Rub the tip against a sponge until it is pointed."),
    ("stop a squeaky door hinge", "Put a few drops of oil on the hinge pin.", "Put a few drops of water on the door handle."),
    ("cool a hot drink faster", "Pour it into a wide, shallow cup.", "Pour it into a tall thermos and close the lid."),
    ("find a small leak in a bicycle tube", "Inflate it and hold it under water to look for bubbles.",
     "Deflate it and shake it to listen for rattling."),
]
PIQA_FORMS = ["How do I %s?", "To %s", "How can you %s?", "%s"]


def piqa_items(rng, n):
    items = []
    for i in range(n):
        goal, good, bad = rng.choice(PIQA)
        form = rng.choice(PIQA_FORMS)
        g = form % goal
        if form == "%s":
            g = g[0].upper() + g[1:] + "."
        if rng.random() < 0.3:
            good, bad = good.lower().rstrip("."), bad.lower().rstrip(".")
        if rng.random() < 0.5:
            items.append({"goal": g, "sol1": good, "sol2": bad, "label": 0})
        else:
            items.append({"goal": g, "sol1": bad, "sol2": good, "label": 1})
    return items


# --------------------------------------------------------------------------------------------------
# Social IQa: a situation, a question about people, three answers
# --------------------------------------------------------------------------------------------------
SIQA_EVENTS = [
    ("helped %s carry boxes up the stairs", "grateful", "thank them", "to be helpful"),
    ("forgot %s's birthday", "guilty", "apologize", "to have been busy"),
    ("won the chess match against %s", "proud", "celebrate", "to practice every day"),
    ("lent %s a warm coat", "kind", "get the coat back later", "to keep them warm"),
    ("cooked dinner for %s after a long day", "caring", "clean the kitchen", "to make them feel better"),
    ("broke %s's favorite mug by accident", "embarrassed", "buy a new mug", "to not be careful"),
    ("told %s a secret", "trusting", "ask them to keep it", "to share something important"),
    ("waited an hour for %s at the station", "annoyed", "call them", "to meet them"),
]
SIQA_Q = [("How would %s feel afterwards?", 1), ("What will %s want to do next?", 2), ("Why did %s do this?", 3)]
SIQA_WRONG = ["bored", "sleepy", "angry at the weather", "go swimming", "sell the house", "to learn French",
              "forget everything", "hungry for cake", "paint the fence", "to avoid the rain", "buy a car",
              "to become famous"]


def siqa_items(rng, n):
    items = []
    for i in range(n):
        a, b = rng.sample(NAMES, 2)
        event, feel, nxt, why = rng.choice(SIQA_EVENTS)
        context = "%s %s." % (a, event % b)
        if rng.random() < 0.2:
            context += " " + rng.choice(["It was raining.", "It was late at night.", "Everyone was watching.",
                                         "They had known each other for years."])
        q, kind = rng.choice(SIQA_Q)
        right = {1: feel, 2: nxt, 3: why}[kind]
        if rng.random() < 0.4:
            right = {1: "very " + feel, 2: "wants to " + nxt, 3: "because they wanted " + why}[kind]
        wrong = rng.sample(SIQA_WRONG, 2)
        answers = [right] + wrong
        rng.shuffle(answers)
        items.append({"context": context, "question": q % a, "answerA": answers[0], "answerB": answers[1],
                      "answerC": answers[2], "label": str(answers.index(right) + 1)})
    return items


# --------------------------------------------------------------------------------------------------
# HellaSwag: ActivityNet-style and WikiHow-style contexts with four endings
# --------------------------------------------------------------------------------------------------
ACTIVITIES = [
    ("Making a sandwich", "A man stands at a kitchen counter with two slices of bread.",
     ["he", "the man", "He then"],
     ["spreads butter on one slice and adds cheese.", "places lettuce and tomato on the bread before closing it.",
      "cuts the sandwich in half and puts it on a plate."]),
    ("Washing a car", "A woman sprays a red car with a garden hose in a driveway.",
     ["she", "the woman", "Next she"],
     ["scrubs the doors with a soapy sponge.", "rinses the soap off the windows.",
      "dries the hood with a large towel."]),
    ("Playing the violin", "A girl sits on a chair holding a violin under her chin.",
     ["she", "the girl"],
     ["draws the bow slowly across the strings.", "plays a short melody and smiles at the camera.",
      "stops to adjust one of the pegs."]),
    ("Shoveling snow", "A person in a thick jacket is standing in a snowy yard.",
     ["they", "the person"],
     ["push a shovel along the path and throw the snow aside.", "clear the steps in front of the house.",
      "lean on the shovel and look at the street."]),
    ("Painting a fence", "Two boys are painting a wooden fence white in the sun.",
     ["they", "the boys", "One boy"],
     ["dip their brushes into the bucket and keep painting.", "step back to look at the finished section.",
      "wipe paint off their hands with a rag."]),
]
WIKIHOW = [
    ("Home and Garden", "How to clean a mirror", "Gather your supplies.",
     "You will need a soft cloth and a spray bottle of glass cleaner.",
     ["Spray the cleaner evenly across the glass.", "Wipe from top to bottom in long strokes.",
      "Check the mirror from an angle for streaks."]),
    ("Food and Entertaining", "How to brew loose tea", "Boil fresh water.",
     "Let it cool for a minute if you are making green tea.",
     ["Measure one teaspoon of leaves per cup.", "Steep the leaves for three to five minutes.",
      "Strain the tea into a warm cup."]),
    ("Personal Care and Style", "How to tie a scarf", "Drape the scarf around your neck.",
     "Make one end longer than the other.",
     ["Wrap the long end around your neck once more.", "Tuck the ends under the loop.",
      "Adjust the knot so that it sits loosely."]),
    ("Pets and Animals", "How to bathe a dog", "Brush your dog before the bath.",
     "Remove any knots so the shampoo can reach the skin.",
     ["Fill the tub with lukewarm water.", "Lather the shampoo from neck to tail.",
      "Rinse thoroughly and towel your dog dry."]),
]
SILLY = ["throws the bread into the sky and it becomes a cloud.", "turns into a small blue bird and flies away.",
         "eats the entire fence in one bite.", "starts singing to the moon at noon.",
         "The car dissolves into a puddle of soup.", "the violin plays itself while the chair dances.",
         "[title] Fold the mirror in half. [step] Mirrors are made of paper.",
         "[title] Put the dog in the oven. [step] Dogs like being baked."]


def hellaswag_items(rng, n):
    items = []
    for i in range(n):
        if rng.random() < 0.55:
            label_text, ctx_a, subjects, steps = rng.choice(ACTIVITIES)
            subj = rng.choice(subjects)
            right = rng.choice(steps)
            if rng.random() < 0.15:
                subj = subj.upper()  # capitalize() lowercases all but the first letter
            ctx_b = subj
            source, split_type = "activitynet~v_%011d" % rng.randrange(10 ** 10), "indomain"
        else:
            label_text, title, step1, detail, steps = rng.choice(WIKIHOW)
            ctx_a = "[header] %s [title] %s [step] %s" % (title, step1, detail)
            right = "[title] " + rng.choice(steps) + rng.choice(["", " [step] Take your time.",
                                                                 " [substeps] Work  slowly and carefully."])
            ctx_b = "" if rng.random() < 0.7 else rng.choice(["then", "Next,", "after that"])
            source, split_type = "wikihow~%d" % rng.randrange(100000), "zeroshot"
        wrong = rng.sample(SILLY, 3)
        endings = [right] + wrong
        rng.shuffle(endings)
        gold = endings.index(right)
        if rng.random() < 0.1:
            endings = [e + " " for e in endings]  # stray trailing spaces, stripped by the preprocessing
        ctx = ctx_a + (" " + ctx_b if ctx_b else "")
        items.append({"ind": 20000 + i, "activity_label": label_text, "ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": ctx,
                      "endings": endings, "source_id": source, "split": "val", "split_type": split_type,
                      "label": str(gold)})
    return items


# --------------------------------------------------------------------------------------------------
# WinoGrande: a sentence with a blank and two options
# --------------------------------------------------------------------------------------------------
WINO_OBJ = [
    ("The %s did not fit into the %s because the _ was too big.", 0),
    ("The %s did not fit into the %s because the _ was too small.", 1),
    ("I moved the %s next to the %s because the _ needed more light.", 0),
    ("She polished the %s instead of the %s, since the _ looked dull.", 0),
    ("We replaced the %s but kept the %s, because the _ was broken.", 0),
    ("He chose the %s over the %s because the _ was cheaper.", 0),
]
WINO_PAIRS = [("trophy", "suitcase"), ("lamp", "table"), ("plant", "bookshelf"), ("guitar", "case"),
              ("kettle", "teapot"), ("mirror", "frame"), ("chair", "desk"), ("bicycle", "garage")]
WINO_PEOPLE = [
    ("%s lent %s an umbrella because _ was going to walk home in the rain.", 1),
    ("%s asked %s for directions because _ was new to the city.", 0),
    ("%s thanked %s because _ had fixed the broken window.", 1),
    ("%s was taller than %s, so _ reached the top shelf easily.", 0),
    ("%s beat %s at tennis, and _'s coach was very pleased.", 0),
    ("%s could not hear %s over the music, so _ spoke louder.", 1),
    ("After the long hike, %s carried %s's backpack because _ was exhausted.", 1),
    ("%s taught %s how to swim, because _ was afraid of deep water.", 1),
    ("%s and %s argued about the bill. _ had paid last time, so the other one paid.", None),
]


def winogrande_items(rng, n):
    items = []
    for i in range(n):
        if rng.random() < 0.45:
            pattern, first = rng.choice(WINO_OBJ)
            a, b = rng.choice(WINO_PAIRS)
            if rng.random() < 0.5:
                a, b = b, a
                first = 1 - first
            sentence = pattern % (a, b)
        else:
            pattern, first = rng.choice(WINO_PEOPLE)
            a, b = rng.sample(NAMES, 2)
            sentence = pattern % (a, b)
            if first is None:  # the blank starts a sentence
                first = rng.randrange(2)
        answer = str(first + 1)
        items.append({"sentence": sentence, "option1": a, "option2": b, "answer": answer})
    return items


def write_jsonl(path, items):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "testdata", "eval", "data"))
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    makers = {
        "arc_easy": lambda r: arc_items(r, args.n, False),
        "arc_challenge": lambda r: arc_items(r, args.n, True),
        "boolq": lambda r: boolq_items(r, args.n),
        "hellaswag": lambda r: hellaswag_items(r, args.n),
        "openbookqa": lambda r: obqa_items(r, args.n),
        "piqa": lambda r: piqa_items(r, args.n),
        "siqa": lambda r: siqa_items(r, args.n),
        "winogrande": lambda r: winogrande_items(r, args.n),
    }
    for seed, (task, make) in enumerate(sorted(makers.items())):
        items = make(random.Random(20261204 + seed))
        write_jsonl(os.path.join(args.out, task + ".jsonl"), items)
        print("%-14s %d items" % (task, len(items)))


if __name__ == "__main__":
    main()
