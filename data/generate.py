#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generates tailor's sample dataset: a company's social intranet (deterministic, seeded).

Users (department, country, role) read, like, comment on and share items (blog posts,
documents, discussions, each in a community with tags). Hidden structure: every item has one
topic, every user prefers one or two topics tied to their department, so good recommendations
are recognisable: a user in Engineering is shown engineering content.

usage: python3 data/generate.py [OUT_DIR]   (default: the folder of this script)
Only the standard library is used; random.Random(seed) makes the output identical every run.
"""
import csv
import json
import math
import os
import random
import sys

SEED = 20261128
N_USERS, N_ITEMS = 600, 1200
START = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400

TOPICS = {
    "engineering": ["cpp", "release", "testing", "architecture", "performance", "security"],
    "sales": ["pipeline", "pricing", "deal", "customer", "forecast", "territory"],
    "marketing": ["campaign", "brand", "webinar", "social", "seo", "launch"],
    "people": ["hiring", "onboarding", "benefits", "wellbeing", "career", "training"],
    "finance": ["budget", "expenses", "audit", "tax", "invoice", "quarterly"],
    "support": ["tickets", "escalation", "knowledge-base", "sla", "outage", "feedback"],
    "design": ["ux", "research", "prototype", "accessibility", "typography", "icons"],
    "data": ["analytics", "dashboard", "sql", "experiment", "pipeline", "ml"],
}
COMMUNITY = {t: t.capitalize() + " Hub" for t in TOPICS}
DEPARTMENT_TOPIC = {"Engineering": "engineering", "Sales": "sales", "Marketing": "marketing",
                    "People": "people", "Finance": "finance", "Support": "support",
                    "Design": "design", "Data": "data"}
COUNTRIES = ["DE", "FR", "GB", "US", "IN", "BR", "JP", "ES"]
ROLES = ["individual-contributor", "manager", "director", "intern"]
CONTENT_TYPES = ["blog_post", "document", "discussion"]
WORDS = ["notes", "update", "guide", "review", "plan", "ideas", "lessons", "roadmap", "faq",
         "checklist", "retrospective", "proposal"]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)
    topics = list(TOPICS)

    users = []
    for u in range(N_USERS):
        dept = rng.choice(list(DEPARTMENT_TOPIC))
        main = DEPARTMENT_TOPIC[dept]
        second = rng.choice([t for t in topics if t != main])
        users.append({"id": f"user-{u:04d}", "dept": dept, "country": rng.choice(COUNTRIES),
                      "role": rng.choices(ROLES, [6, 2, 1, 1])[0],
                      "prefs": {main: 0.7, second: 0.2}, "activity": rng.lognormvariate(0, 0.8)})

    items, by_topic = [], {t: [] for t in topics}
    for i in range(N_ITEMS):
        topic = topics[i % len(topics)]
        ctype = rng.choice(CONTENT_TYPES)
        tags = rng.sample(TOPICS[topic], rng.randint(1, 3))
        title = f"{topic.capitalize()} {rng.choice(WORDS)}: {' and '.join(tags)}"
        if rng.random() < 0.1:
            title += ', "draft", part 2'  # quotes and commas exercise CSV quoting
        created = START + rng.randint(0, 150) * DAY + rng.randint(0, DAY - 1)
        item = {"id": f"item-{i:04d}", "topic": topic, "type": ctype, "tags": tags,
                "title": title, "created": created,
                "appeal": 1.0 / (1 + len(by_topic[topic])) ** 0.8}  # Zipf-like within a topic
        items.append(item)
        by_topic[topic].append(item)

    events = []
    for user in users:
        n = max(5, int(25 * user["activity"]))
        for _ in range(n):
            r = rng.random()
            topic = next((t for t, p in user["prefs"].items() if (r := r - p) < 0), None)
            topic = topic or rng.choice(topics)  # 10%: anything
            pool = by_topic[topic]
            item = rng.choices(pool, [it["appeal"] for it in pool])[0]
            ts = max(item["created"], START + rng.randint(0, 180) * DAY) + rng.randint(0, DAY - 1)
            events.append((user["id"], item["id"], ts, "read", round(rng.uniform(0.2, 1.0), 2)))
            for kind, p in (("like", 0.25), ("comment", 0.1), ("share", 0.06)):
                if rng.random() < p:
                    events.append((user["id"], item["id"], ts + rng.randint(30, 3600), kind, ""))
    events.sort(key=lambda e: (e[2], e[0], e[1]))

    with open(os.path.join(out, "interactions.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"])
        w.writerows(events)
    with open(os.path.join(out, "users.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["USER_ID", "DEPARTMENT", "COUNTRY", "ROLE"])
        for u in users:
            w.writerow([u["id"], u["dept"], u["country"], u["role"]])
    with open(os.path.join(out, "items.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ITEM_ID", "CONTENT_TYPE", "COMMUNITY", "TAGS", "TITLE", "CREATION_TIMESTAMP"])
        for it in items:
            w.writerow([it["id"], it["type"], COMMUNITY[it["topic"]], "|".join(it["tags"]),
                        it["title"], it["created"]])

    def schema(name, fields):
        return {"type": "record", "name": name,
                "namespace": "com.amazonaws.personalize.schema", "fields": fields, "version": "1.0"}
    schemas = {
        "interactions_schema.json": schema("Interactions", [
            {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
            {"name": "EVENT_VALUE", "type": ["null", "float"]}]),
        "users_schema.json": schema("Users", [
            {"name": "USER_ID", "type": "string"},
            {"name": "DEPARTMENT", "type": "string", "categorical": True},
            {"name": "COUNTRY", "type": "string", "categorical": True},
            {"name": "ROLE", "type": "string", "categorical": True}]),
        "items_schema.json": schema("Items", [
            {"name": "ITEM_ID", "type": "string"},
            {"name": "CONTENT_TYPE", "type": "string", "categorical": True},
            {"name": "COMMUNITY", "type": "string", "categorical": True},
            {"name": "TAGS", "type": ["null", "string"], "categorical": True},
            {"name": "TITLE", "type": ["null", "string"], "textual": True},
            {"name": "CREATION_TIMESTAMP", "type": "long"}]),
    }
    for name, s in schemas.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(s, f, indent=2)
            f.write("\n")
    print(f"wrote {len(users)} users, {len(items)} items, {len(events)} interactions to {out}")


if __name__ == "__main__":
    main()
