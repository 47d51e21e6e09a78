#!/usr/bin/env python3
"""Creates the demo's SQLite database (users and products) unless it exists.

Usage: setup.py DATABASE_PATH
"""
import os
import sqlite3
import sys

SCHEMA = """
CREATE TABLE user (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    pseudo TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '["ROLE_USER"]'
);
CREATE TABLE product (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price REAL NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO user (email, pseudo) VALUES ('alice@example.com', 'Alice'), ('bob@example.com', 'Bob');
INSERT INTO product (name, price, created_at) VALUES
    ('Capstan mug', 12.5, datetime('now', '-5 minutes')),
    ('Winch handle', 39.0, datetime('now', '-3 days'));
"""


def main() -> int:
    path = sys.argv[1]
    if os.path.exists(path):
        return 0
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.commit()
    db.close()
    print(f"setup: created {path} with users alice@example.com (1) and bob@example.com (2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
