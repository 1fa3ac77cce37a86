from interlock.evaluation.sandbox import SandboxLimits, run_tests

TESTS = "def test_one():\n    assert f() == 1\n"


def test_passing_and_failing_tests():
    assert run_tests("def f():\n    return 1\n", TESTS).outcome == "passed"
    failed = run_tests("def f():\n    return 2\n", TESTS)
    assert (failed.passed, failed.total, failed.outcome) == (0, 1, "failed")
    assert "AssertionError at tests.py:2" in failed.detail


def test_top_level_asserts_count_as_one_test():
    assert run_tests("x = 3", "assert x == 3").fraction == 1.0
    assert run_tests("x = 3", "assert x == 4").fraction == 0.0


def test_cpu_bound_infinite_loop_is_killed():
    run = run_tests("while True:\n    pass\n", TESTS, SandboxLimits(cpu_seconds=1, wall_seconds=5))
    assert run.outcome == "cpu_limit" and run.fraction == 0.0


def test_sleeping_loop_is_killed_by_the_wall_clock():
    run = run_tests("import time\nwhile True:\n    time.sleep(0.05)\n", TESTS, SandboxLimits(wall_seconds=1))
    assert run.outcome == "timeout" and run.fraction == 0.0


def test_memory_hog_is_refused():
    hog = "blocks = []\nwhile True:\n    blocks.append(bytearray(50_000_000))\n"
    run = run_tests(hog, TESTS, SandboxLimits(memory_mb=256))
    assert run.fraction == 0.0 and "MemoryError" in run.detail


def test_network_is_refused():
    code = (
        "import socket\ndef f():\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n    return 1\n"
    )
    run = run_tests(code, TESTS)
    assert run.fraction == 0.0 and "network access is disabled" in run.detail


def test_runs_in_a_private_directory_in_isolated_mode():
    code = (
        "import os, sys\n"
        "def f():\n"
        "    private = os.path.basename(os.getcwd()).startswith('interlock-sandbox-')\n"
        "    return int(sys.flags.isolated and private)\n"
    )
    assert run_tests(code, TESTS).outcome == "passed"


def test_partial_credit_survives_a_later_timeout():
    tests = "def test_fast():\n    assert f() == 1\n\ndef test_slow():\n    while True:\n        pass\n"
    run = run_tests("def f():\n    return 1\n", tests, SandboxLimits(cpu_seconds=1, wall_seconds=5))
    assert (run.passed, run.total, run.outcome) == (1, 2, "cpu_limit")
