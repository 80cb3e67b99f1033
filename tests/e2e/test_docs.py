"""The README stays true: its command reference lists exactly the commands
the firmware's `Help` lists, and every simulator option it shows exists in
`openplug-sim --help`."""
import json
import pathlib
import re
import subprocess

from simlib import run_sim, sim_path

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def readme_section(title):
    text = README.read_text()
    start = text.index("## " + title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_readme_command_reference_matches_help(tmp_path):
    result = run_sim(tmp_path / "flash.bin", duration=1, exec_="Help")
    helps = [json.loads(line) for line in result.lines if line.startswith('{"Commands"')]
    assert len(helps) >= 1, result.stdout
    firmware = set().union(*(h["Commands"] for h in helps))  # one reply per module
    documented = set(re.findall(r"^\| `(\w+)` \|", readme_section("Commands"), re.M))
    assert documented == firmware, "README lacks %s, lists unknown %s" % (firmware - documented,
                                                                          documented - firmware)


def test_readme_simulator_options_exist():
    usage = subprocess.run([sim_path(), "--help"], capture_output=True, text=True, timeout=10).stdout
    documented = set(re.findall(r"^\| `(--[\w-]+)", readme_section("What you see with `make run`"), re.M))
    assert documented, "no options found in the README"
    for option in documented:
        assert option in usage, option
