#!/usr/bin/python3
# The ctest meta.labels: fails when a registered test has no LABELS, or when a Python test was
# registered without wshub_python_test() (tests/python_tests.cmake) and so runs without tests/
# on PYTHONPATH. It reads the tests as ctest itself sees them (`ctest --show-only=json-v1`), so
# the GoogleTest cases gtest_discover_tests adds at build time are checked too.
#
#   check_labels.py --ctest CTEST --build-dir DIR

import argparse
import json
import re
import subprocess
import sys

PYTHON_SCRIPT = re.compile(r"(^|/)python3?$")


def properties(test):
    return {p["name"]: p["value"] for p in test.get("properties", [])}


def problems(listing):
    """(tests without a label, Python tests without tests/ on PYTHONPATH) in `listing`."""
    unlabelled, no_pythonpath = [], []
    for test in listing["tests"]:
        name = test["name"]
        # A test executable not built yet stands in as <target>_NOT_BUILT; that fails anyway.
        if name.endswith("_NOT_BUILT"):
            continue
        props = properties(test)
        if not props.get("LABELS"):
            unlabelled.append(name)
        command = test.get("command") or []
        runs_python_script = (len(command) >= 2 and PYTHON_SCRIPT.search(command[0])
                              and command[1].endswith(".py"))
        modifications = props.get("ENVIRONMENT_MODIFICATION") or []
        if runs_python_script and not any(m.startswith("PYTHONPATH=path_list_prepend:")
                                          for m in modifications):
            no_pythonpath.append(name)
    return unlabelled, no_pythonpath


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ctest", required=True)
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    shown = subprocess.run([args.ctest, "--test-dir", args.build_dir, "--show-only=json-v1"],
                           capture_output=True, text=True, check=True)
    listing = json.loads(shown.stdout)
    unlabelled, no_pythonpath = problems(listing)
    if unlabelled:
        print("tests without LABELS (set them with set_tests_properties, or with the PROPERTIES of "
              "gtest_discover_tests; tests/README.md lists the labels):", *unlabelled, sep="\n  ")
    if no_pythonpath:
        print("Python tests not registered with wshub_python_test() (tests/python_tests.cmake), "
              "so without tests/ on PYTHONPATH:", *no_pythonpath, sep="\n  ")
    if unlabelled or no_pythonpath:
        return 1
    print(f"{len(listing['tests'])} tests, each with a label; "
          f"every Python test gets tests/ on PYTHONPATH")
    return 0


if __name__ == "__main__":
    sys.exit(main())
