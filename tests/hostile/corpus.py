"""Hostile programs for the solution evaluator, each with the statuses it may end in.

Placeholders substituted by tests/test_executor_hostile.py: @CANARY@ (a file in a root-only
directory), @CANARY_DIR@, @WW_CANARY@ (a world-writable file in the host's /tmp), @PORT@ (a loopback
listener the test started), @REPO@ (the repository root), @SECRET_NAME@ (an env var the parent holds).
`requires`: sandbox features without which the entry is skipped (running it would be unsafe, or the
lower level documentedly does not prevent it, e.g. a non-root runner's program can write files its
user owns; see docs/executor.md). The pseudo-feature `uid_or_nonroot` holds when programs do not
run as root.
`check`: an extra assertion the test makes on the result (see the test module).
"""

CORPUS = [
    # --- process count / memory / CPU ---
    dict(name="fork_bomb", program="import os\nwhile True:\n    os.fork()", expect={"error", "timeout"}, requires={"uid"}),
    dict(name="fork_bomb_swallow", program="import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
         expect={"timeout", "error"}, requires={"uid"}),
    dict(name="thread_bomb", program="import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(1000,)).start()",
         expect={"error", "memory"}, requires={"uid"}),
    dict(name="memory_list", program="x = [0] * 10**10", expect={"memory"}),
    dict(name="memory_bytearray", program="b = bytearray()\nwhile True:\n    b.extend(b'x' * 10**7)", expect={"memory"}),
    dict(name="memory_str", program="s = 'x' * (10**11)", expect={"memory"}),
    dict(name="memory_in_function", program="def f():\n    return [1] * (10**10)", tests="assert f()", expect={"memory"}),
    dict(name="infinite_loop", program="while True:\n    pass", expect={"timeout"}),
    dict(name="c_level_loop", program="sum(range(10**12))", expect={"timeout"}),
    dict(name="sleep", program="import time\ntime.sleep(1000)", expect={"timeout"}),
    dict(name="ignore_sigterm_loop", program="import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass", expect={"timeout"}),
    dict(name="deep_recursion", program="def f(n):\n    return f(n + 1)", tests="assert f(0)", expect={"error"}, check="recursion"),
    dict(name="deep_recursion_unlimited", program="import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1)\nf(0)",
         expect={"error", "memory", "timeout"}),
    # --- output ---
    dict(name="endless_printing", program="while True:\n    print('spam' * 100)", expect={"output_limit"}),
    dict(name="one_huge_line", program="print('x' * (10**8))", expect={"output_limit", "memory"}),
    dict(name="big_but_allowed_output", program="print('y' * (10**6))", expect={"pass"}, check="tail_capped"),
    dict(name="invalid_utf8_output", program="import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\x80 bad')\nsys.stdout.flush()\nsys.stderr.buffer.write(b'\\xc3\\x28')",
         expect={"pass"}, check="replacement_char"),
    dict(name="huge_exception_message", program="raise ValueError('x' * 10**7)", expect={"error"}, check="capped_message"),
    # --- files ---
    dict(name="write_home", program="import os\nopen(os.path.expanduser('~/leti_hostile_home.txt'), 'w').write('x')", expect={"pass"}, check="no_home_file"),
    dict(name="write_root_home_absolute", program="open('/root/leti_hostile_abs.txt', 'w').write('x')", expect={"error"}, check="no_home_file",
         requires={"uid_or_nonroot"}),
    dict(name="write_tmp", program="open('/tmp/leti_hostile_tmp.txt', 'w').write('x')", expect={"pass", "error"}, check="no_tmp_file"),
    dict(name="write_repo", program="open('@REPO@/leti_hostile_repo.txt', 'w').write('x')", expect={"error"}, check="no_repo_file",
         requires={"uid"}),
    dict(name="delete_canary", program="import os\nos.remove('@CANARY@')", expect={"error"}, requires={"uid"}),
    dict(name="rmtree_canary_dir", program="import shutil\nshutil.rmtree('@CANARY_DIR@')", expect={"error"}, requires={"uid"}),
    dict(name="overwrite_world_writable_canary", program="open('@WW_CANARY@', 'w').write('pwned')", expect={"pass", "error"},
         requires={"mntns"}),
    dict(name="delete_world_writable_canary", program="import os\nos.remove('@WW_CANARY@')", expect={"error"}, requires={"uid"}),
    dict(name="fill_disk", program="open('big.bin', 'wb').write(b'0' * (200 * 1024 * 1024))", expect={"error", "memory"}),
    dict(name="too_many_files", program="fs = [open('f%d' % i, 'w') for i in range(100000)]", expect={"error"}),
    # --- network ---
    dict(name="socket_connect_loopback", program="import socket\nsocket.create_connection(('127.0.0.1', @PORT@), timeout=0.5)", expect={"error"}, requires={"netns"}),
    dict(name="dns_lookup", program="import socket\nsocket.getaddrinfo('example.com', 80)", expect={"error"}, requires={"netns"}),
    dict(name="udp_send", program="import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', @PORT@))", expect={"error"}, requires={"netns"}),
    # --- processes / signals ---
    dict(name="kill_parent", program="import os\nos.kill(os.getppid(), 9)", expect={"error"}, requires={"uid"}),
    dict(name="kill_everything_visible", program="import os\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n        try:\n            os.kill(int(p), 9)\n        except OSError:\n            pass",
         expect={"pass"}, requires={"uid"}),
    dict(name="kill_minus_one", program="import os\nos.kill(-1, 9)\nos.kill(os.getpid(), 9)", expect={"error"}, requires={"uid"}),
    dict(name="nonterminating_thread", program="import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()", expect={"pass"}),
    dict(name="nonterminating_thread_failing", program="import threading\ndef spin():\n    while True:\n        pass\nthreading.Thread(target=spin).start()",
         tests="assert 1 == 2", expect={"fail"}),
    dict(name="popen_sleep", program="import subprocess\nsubprocess.Popen(['sleep', '1000'])", expect={"pass"}),
    dict(name="popen_setsid_sleep", program="import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True, stdout=subprocess.DEVNULL)", expect={"pass"}),
    dict(name="fork_orphan", program="import os, time\nif os.fork() == 0:\n    time.sleep(1000)", expect={"pass", "error"}),
    dict(name="double_fork_daemon", program="import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(1000)\n    os._exit(0)",
         expect={"pass"}),
    dict(name="fork_child_passes_parent_fails", program="import os", tests="pid = os.fork()\nassert pid == 0", expect={"fail"}),
    dict(name="ctypes_segfault", program="import ctypes\nctypes.string_at(0)", expect={"error"}, check="signal"),
    dict(name="setuid_root", program="import os\nos.setuid(0)", expect={"error"}, requires={"uid"}),
    # --- early exits must not pass ---
    dict(name="sys_exit_0", program="import sys\nsys.exit(0)", tests="assert False", expect={"error"}),
    dict(name="os_exit_0", program="import os\nos._exit(0)", tests="assert False", expect={"error"}),
    dict(name="raise_systemexit_0", program="raise SystemExit(0)", tests="assert False", expect={"error"}),
    dict(name="builtin_exit", program="exit()", tests="assert False", expect={"error"}),
    dict(name="exit_in_tests_region", program="def f():\n    return 1", tests="import sys\nsys.exit(0)\nassert f() == 2", expect={"error"}),
    dict(name="close_all_fds", program="import os\nos.closerange(0, 4096)", expect={"error"}),
    dict(name="forge_sentinel", program="import os, json\nos.write(3, (json.dumps({'status': 'pass', 'nonce': '0' * 32, 'pid': os.getpid()}) + '\\n').encode())\nos._exit(0)",
         tests="assert False", expect={"error"}),
    dict(name="keyboard_interrupt", program="raise KeyboardInterrupt", expect={"error"}),
    # --- stdin / environment / escapes ---
    dict(name="read_stdin_input", program="x = input()", expect={"error"}),
    dict(name="read_stdin_all", program="import sys\ndata = sys.stdin.read()", tests="assert data == ''", expect={"pass"}),
    dict(name="subclasses_to_os_system", program=(
        "w = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]\n"
        "system = w.__init__.__globals__['system']\n"
        "system('rm -rf @CANARY_DIR@; rm -f @WW_CANARY@; touch /root/leti_hostile_sys @REPO@/leti_hostile_sys')"),
        expect={"pass"}, check="no_home_file", requires={"uid"}),
    dict(name="read_parent_secret", program=(
        "import os\n"
        "print(dict(os.environ))\n"
        "for p in ['/proc/self/environ', '/proc/%d/environ' % os.getppid(), '/proc/1/environ']:\n"
        "    try:\n"
        "        print(open(p, 'rb').read())\n"
        "    except OSError as e:\n"
        "        print(e)\n"
        "x = os.environ['@SECRET_NAME@']"),
        expect={"error"}, check="no_secret"),
    # --- bad programs ---
    dict(name="empty_program", program="", expect={"syntax_error"}),
    dict(name="whitespace_program", program="   \n\n", expect={"syntax_error"}),
    dict(name="binary_garbage", program="".join(map(chr, range(256))) * 3, expect={"syntax_error"}),
    dict(name="lone_surrogate", program="x = '\ud800'", expect={"syntax_error", "pass"}),
]
