#!/usr/bin/env python3
"""Write comongus/confusables.json from Unicode's confusables.txt (UTS #39 security data).

    python scripts/generate-confusables.py path/to/confusables.txt

The file is Unicode's, at https://www.unicode.org/Public/<version>/security/confusables.txt
(older versions: /Public/security/<version>/). Each data line reads
`source ; target ; MA # comment`, code points in hex, the target one or more of them.
The output keeps the same hex spelling, so a code point is found in both files with one
grep, and it is plain ASCII: no look-alike or invisible character is ever printed.
Keys are in code-point order and the output ends in a newline, so the same input always
gives the same bytes.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "comongus" / "confusables.json"
CODE_POINT = re.compile(r"[0-9A-F]{4,6}")


def header_field(text: str, name: str) -> str:
    match = re.search(rf"^#\s*{name}:\s*(.+?)\s*$", text, re.MULTILINE)
    if match is None:
        sys.exit(f"no '# {name}:' line in the header: is this confusables.txt?")
    return match.group(1)


def code_points(field: str, line_number: int) -> list[str]:
    points = field.split()
    if not points or not all(CODE_POINT.fullmatch(point) for point in points):
        sys.exit(f"line {line_number}: {field!r} is not a list of hex code points")
    return points


def prototypes(text: str) -> dict[str, str]:
    """Each source code point and the code points of its prototype, as in the file."""
    mapping: dict[str, str] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        fields = [field.strip() for field in data.split(";")]
        if len(fields) != 3 or fields[2] != "MA":
            sys.exit(f"line {line_number}: expected 'source ; target ; MA', got {data!r}")
        source = code_points(fields[0], line_number)
        if len(source) != 1:
            sys.exit(f"line {line_number}: the source must be one code point")
        if source[0] in mapping:
            sys.exit(f"line {line_number}: U+{source[0]} is mapped twice")
        mapping[source[0]] = " ".join(code_points(fields[1], line_number))
    if not mapping:
        sys.exit("no mappings found")
    return dict(sorted(mapping.items(), key=lambda item: int(item[0], 16)))


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    raw = Path(sys.argv[1]).read_bytes()
    text = raw.decode("utf-8-sig")
    data = {
        "source": "Unicode confusables.txt (UTS #39), converted by scripts/generate-confusables.py",
        "version": header_field(text, "Version"),
        "date": header_field(text, "Date"),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "prototypes": prototypes(text),
    }
    OUTPUT.write_text(json.dumps(data, indent=0) + "\n", encoding="ascii")
    print(f"{OUTPUT}: {len(data['prototypes'])} prototypes, Unicode {data['version']}")


if __name__ == "__main__":
    main()
