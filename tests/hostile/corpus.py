"""Hostile programs for the solution evaluator, each with the statuses it may end in.

Placeholders substituted by tests/test_executor_hostile.py: @CANARY@ (a file in a root-only
directory), @CANARY_DIR@, @WW_CANARY@ (a world-writable file in the host's /tmp), @PORT@ (a loopback
listener the test started), @REPO@ (the repository root), @SECRET_NAME@ (an env var the parent holds).
`requires`: sandbox features without which the entry is skipped (running it would be unsafe, or the
lower level documentedly does not prevent it, e.g. a non-root runner's program can write files its
user owns; see docs/executor.md). The pseudo-feature `uid_or_nonroot` holds when programs do not
run as root.
`check`: an extra assertion the test makes on the result (see the test module).
`then` / `then_tests` / `then_expect`: a second program run right after this one in the same worker
(one batch, one worker): what the first left behind must not affect it (a correct one must pass).
`limits`: fields merged into the record (timeout, memory_mb); `expect={"rejected"}` means the record
must be refused with a one-line input error before any program runs.
More placeholders: @HOST_SOCK_VARTMP@, @HOST_SOCK_RUN@, @HOST_SOCK_OTHER@ (listening host UNIX sockets,
mode 0777), @HOST_DIR@ (a root-owned host directory, 0755, holding a 0644 file `f`), @IPC_KEY@.
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

_LIBC = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
_DEEP = ("import os\nroot = os.getcwd()\nfor i in range({n}):\n    os.mkdir({name})\n    os.chdir({name})\n"
         "os.symlink('@HOST_DIR@', 'link')\nos.symlink('@HOST_DIR@/f', 'flink')\nopen('x', 'w').write('x')\n"
         "os.chdir(root)\np, paths = root, []\nfor i in range({n}):\n    p = os.path.join(p, {name})\n"
         "    if len(p) > 3000:\n        break\n    paths.append(p)\n"
         "for i, p in reversed(list(enumerate(paths))):\n    os.chmod(p, 0o500 if i % 2 else 0)\n")
_CORRECT = "def add(a, b):\n    return a + b"
_CORRECT_TESTS = "assert add(1, 2) == 3"

CORPUS += [
    # --- IPC objects must not outlive a program (ipcns + cleanup after every program) ---
    dict(name="sysv_shm_survives", program=_LIBC + "assert libc.shmget(@IPC_KEY@, 4096, 0o1666) >= 0",
         then=_LIBC + "found = libc.shmget(@IPC_KEY@, 0, 0o666)", then_tests="assert found == -1, found",
         expect={"pass"}, then_expect={"pass"}, requires={"ipcns"}, check="host_ipc"),
    dict(name="sysv_shm_attached_survives", program=_LIBC + "libc.shmat.restype = ctypes.c_void_p\n"
         "i = libc.shmget(@IPC_KEY@, 1 << 20, 0o1666)\naddr = libc.shmat(i, None, 0)\nctypes.memset(addr, 1, 1 << 20)",
         then=_LIBC + "found = libc.shmget(@IPC_KEY@, 0, 0o666)", then_tests="assert found == -1, found",
         expect={"pass"}, then_expect={"pass"}, requires={"ipcns"}, check="host_ipc"),
    dict(name="sysv_msg_survives", program=_LIBC + "assert libc.msgget(@IPC_KEY@, 0o1666) >= 0",
         then=_LIBC + "found = libc.msgget(@IPC_KEY@, 0o666)", then_tests="assert found == -1, found",
         expect={"pass"}, then_expect={"pass"}, requires={"ipcns"}, check="host_ipc"),
    dict(name="sysv_sem_survives", program=_LIBC + "assert libc.semget(@IPC_KEY@, 4, 0o1666) >= 0",
         then=_LIBC + "found = libc.semget(@IPC_KEY@, 0, 0o666)", then_tests="assert found == -1, found",
         expect={"pass"}, then_expect={"pass"}, requires={"ipcns"}, check="host_ipc"),
    dict(name="sysv_many_objects", program=_LIBC + "ids = [libc.shmget(@IPC_KEY@ + k, 4096, 0o1666) for k in range(50)]"
         "\nids += [libc.msgget(@IPC_KEY@ + k, 0o1666) for k in range(50)]\nassert min(ids) >= 0",
         then=_LIBC + "found = [libc.shmget(@IPC_KEY@ + k, 0, 0) for k in range(50)] + [libc.msgget(@IPC_KEY@ + k, 0) for k in range(50)]",
         then_tests="assert set(found) == {-1}", expect={"pass"}, then_expect={"pass"}, requires={"ipcns"}, check="host_ipc"),
    dict(name="posix_mqueue_survives", program=_LIBC + "assert libc.mq_open(b'/leti_hostile_mq', 0o102, 0o666, None) >= 0",
         then=_LIBC + "found = libc.mq_open(b'/leti_hostile_mq', 2)", then_tests="assert found == -1, found",
         expect={"pass"}, then_expect={"pass"}, requires={"ipcns", "mntns"}),
    dict(name="posix_shm_survives", program="from multiprocessing import shared_memory\n"
         "m = shared_memory.SharedMemory(name='leti_hostile_shm', create=True, size=4096)\nm.buf[0] = 7",
         then="import os\nfound = os.path.exists('/dev/shm/leti_hostile_shm')", then_tests="assert not found",
         expect={"pass"}, then_expect={"pass"}, requires={"mntns"}),
    dict(name="tmp_file_survives", program="open('/tmp/leti_hostile_left', 'w').write('x')",
         then="import os\nfound = os.path.exists('/tmp/leti_hostile_left')", then_tests="assert not found",
         expect={"pass"}, then_expect={"pass"}, requires={"mntns"}),
    dict(name="scratch_file_survives", program="import os\nopen('leti_mark', 'w').write(os.getcwd())",
         then="import os\nfound = os.listdir('.')", then_tests="assert found == [], found",
         expect={"pass"}, then_expect={"pass"}),
    # --- a writable, private, size-capped /dev/shm: multiprocessing works in a correct program ---
    dict(name="multiprocessing_lock_correct", program="import multiprocessing\nlock = multiprocessing.Lock()\n" + _CORRECT
         + "\nwith lock:\n    r = add(1, 2)", tests="assert r == 3", expect={"pass"}),
    dict(name="multiprocessing_value_correct", program="import multiprocessing\nv = multiprocessing.Value('i', 0)\n"
         "with v.get_lock():\n    v.value += 3", tests="assert v.value == 3", expect={"pass"}),
    dict(name="multiprocessing_semaphore_correct", program="import multiprocessing\ns = multiprocessing.BoundedSemaphore(2)\n"
         "s.acquire()\ns.release()", tests="assert True", expect={"pass"}),
    dict(name="dev_shm_writable", program="open('/dev/shm/leti_small', 'wb').write(b'x' * (1 << 20))", expect={"pass"},
         requires={"mntns"}),
    dict(name="dev_shm_capped", program="open('/dev/shm/leti_big', 'wb').write(b'x' * (60 << 20))\n"
         "open('/dev/shm/leti_big2', 'wb').write(b'x' * (60 << 20))", expect={"error", "memory"}, requires={"mntns"}),
    dict(name="dev_shm_full_then_lock", program="import os\ntry:\n    for i in range(8):\n"
         "        open('/dev/shm/leti_fill%d' % i, 'wb').write(b'x' * (16 << 20))\nexcept OSError:\n    pass",
         then="import multiprocessing\nlock = multiprocessing.Lock()\n" + _CORRECT, then_tests=_CORRECT_TESTS,
         expect={"pass"}, then_expect={"pass"}, requires={"mntns"}),
    # --- host UNIX sockets and host paths are out of reach ---
    dict(name="host_socket_var_tmp", program="import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('@HOST_SOCK_VARTMP@')",
         expect={"error"}, requires={"mntns"}),
    dict(name="host_socket_run", program="import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('@HOST_SOCK_RUN@')",
         expect={"error"}, requires={"mntns"}),
    dict(name="host_socket_elsewhere", program="import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('@HOST_SOCK_OTHER@')",
         expect={"error"}, requires={"mntns"}),
    dict(name="host_socket_scan", program=(
        "import os, socket, stat\nhits = []\nfor top in ('/run', '/var/tmp', '/var/run', '/tmp', '/dev/shm', '@HOST_DIR@/..'):\n"
        "    for root, dirs, files in os.walk(top):\n        for f in files:\n            p = os.path.join(root, f)\n"
        "            try:\n                if stat.S_ISSOCK(os.lstat(p).st_mode):\n                    s = socket.socket(socket.AF_UNIX)\n"
        "                    s.connect(p)\n                    hits.append(p)\n            except OSError:\n                pass"),
        tests="assert hits == [], hits", expect={"pass"}, requires={"mntns"}),
    dict(name="run_and_var_tmp_are_private", program="import os\nseen = os.listdir('/run') + os.listdir('/var/tmp')",
         tests="assert seen == [], seen", expect={"pass"}, requires={"mntns"}),
    dict(name="write_var_tmp", program="open('/var/tmp/leti_hostile_vt', 'w').write('x')", expect={"error"},
         requires={"mntns"}, check="no_var_tmp_file"),
    dict(name="write_host_dir", program="open('@HOST_DIR@/pwned', 'w').write('x')", expect={"error"}, requires={"uid"},
         check="host_dir"),
    # --- cleanup must not follow what the program planted, at any depth ---
    dict(name="deep_tree_300_symlink_bottom", program=_DEEP.format(n=300, name="'d'"), expect={"pass"},
         check="host_dir", then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="deep_tree_1100_symlink_bottom", program=_DEEP.format(n=1100, name="'d'"), expect={"pass"},
         check="host_dir", then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="deep_tree_long_names", program=_DEEP.format(n=40, name="'n' * 250"), expect={"pass"},
         check="host_dir", then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="deep_tree_in_tmp", program="import os\nos.chdir('/tmp')\n" + _DEEP.format(n=600, name="'t'").replace(
         "root = os.getcwd()", "root = '/tmp'"), expect={"pass"}, check="host_dir", requires={"mntns"},
         then="import os\nfound = [n for n in os.listdir('/tmp') if not n.startswith('.leti')]", then_tests="assert found == [], found",
         then_expect={"pass"}),
    dict(name="symlink_scratch_entries_to_host", program="import os\nos.symlink('@HOST_DIR@', 'dir')\n"
         "os.symlink('@HOST_DIR@/f', 'file')\nos.symlink('/', 'root')\nos.chmod('.', 0)", expect={"pass"}, check="host_dir",
         then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="symlink_in_tmp_to_host", program="import os\nos.symlink('@HOST_DIR@', '/tmp/leti_link')\n"
         "os.symlink('@HOST_DIR@/f', '/dev/shm/leti_link')", expect={"pass"}, check="host_dir", requires={"mntns"}),
    dict(name="hardlink_host_file", program="import os\nos.link('@HOST_DIR@/f', 'hl')", expect={"pass", "error"},
         check="host_dir"),
    dict(name="fifo_and_socket_in_scratch", program="import os, socket\nos.mkfifo('p')\n"
         "socket.socket(socket.AF_UNIX).bind('s')", expect={"pass"}, then=_CORRECT, then_tests=_CORRECT_TESTS,
         then_expect={"pass"}),
    dict(name="many_files_in_scratch", program="import os\nfor i in range(2000):\n    open('f%d' % i, 'w').close()",
         limits={"timeout": 6}, expect={"pass"}, then="import os\nn = len(os.listdir('.'))", then_tests="assert n == 0", then_expect={"pass"}),
    dict(name="rename_scratch_away", program="import os\nhere = os.getcwd()\nos.chdir('..')\nos.rename(here, here + '_x')",
         expect={"error"}, requires={"uid"}, then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="create_next_scratch", program="import os\nbase = os.path.dirname(os.getcwd())\n"
         "for i in range(1, 200):\n    os.makedirs(os.path.join(base, str(i)), exist_ok=True)", expect={"error"},
         requires={"uid"}, then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    # --- a program must not poison its worker for the next one ---
    dict(name="fill_scratch_enospc", program="try:\n    for i in range(16):\n"
         "        open('fill%d' % i, 'wb').write(b'x' * (60 << 20))\nexcept OSError:\n    pass",
         expect={"pass", "memory"}, then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}, requires={"mntns"}),
    dict(name="scratch_chmod_000", program="import os\nos.mkdir('sub')\nopen('sub/f', 'w').write('x')\nos.chmod('sub', 0)\n"
         "os.chmod('.', 0)", expect={"pass"}, then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="tmp_dir_chmod_000", program="import os\nos.makedirs('/tmp/leti_locked/a/b')\nos.chmod('/tmp/leti_locked/a', 0)\n"
         "os.chmod('/tmp/leti_locked', 0)", expect={"pass"}, requires={"mntns"},
         then="import os\nfound = [n for n in os.listdir('/tmp') if not n.startswith('.leti')]", then_tests="assert found == [], found",
         then_expect={"pass"}),
    dict(name="sticky_tmp_squat", program="import os\nfor n in ('leti-exec-1', '.leti2', 'pymp-x'):\n    os.mkdir('/tmp/' + n, 0)",
         expect={"pass"}, requires={"mntns"}, then="import multiprocessing, tempfile\nlock = multiprocessing.Lock()\n"
         "d = tempfile.mkdtemp()\n" + _CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    # --- memory and processes are budgeted per program, across its processes (cgroup) ---
    dict(name="memory_across_processes", program="import os, time\npids = []\nfor i in range(4):\n    p = os.fork()\n"
         "    if p == 0:\n        b = b'x' * (200 << 20)\n        time.sleep(1)\n        os._exit(0)\n    pids.append(p)\n"
         "ok = sum(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) == 0 for p in pids)",
         tests="assert ok == 4, ok", limits={"memory_mb": 300, "timeout": 8}, expect={"fail", "memory"}, requires={"cgroup"}),
    dict(name="memory_children_hold_main_grows", program="import os, time\nfor i in range(3):\n    if os.fork() == 0:\n"
         "        b = b'x' * (120 << 20)\n        time.sleep(5)\n        os._exit(0)\ntime.sleep(0.5)\n"
         "bs = []\nfor i in range(12):\n    bs.append(b'y' * (20 << 20))", limits={"memory_mb": 300, "timeout": 8},
         expect={"memory", "pass", "error"}, requires={"cgroup"}, check="cgroup_level"),
    dict(name="cgroup_oom_kill_is_memory", program="import os, time\nfor i in range(2):\n    if os.fork() == 0:\n"
         "        b = b'x' * (100 << 20)\n        time.sleep(5)\n        os._exit(0)\ntime.sleep(0.5)\nbs = []\n"
         "for i in range(25):\n    bs.append(b'y' * (10 << 20))", limits={"memory_mb": 300, "timeout": 8},
         expect={"memory"}, requires={"cgroup"}, check="cgroup_level"),
    dict(name="pids_budget", program="import os, time\nn = 0\ntry:\n    for i in range(200):\n        if os.fork() == 0:\n"
         "            time.sleep(3)\n            os._exit(0)\n        n += 1\nexcept OSError:\n    pass",
         tests="assert n < 200, n", expect={"pass"}, requires={"cgroup"}),
    # --- bytes and lone surrogates never crash a writer ---
    dict(name="surrogate_stdout", program="import sys\nprint(chr(0xd800) + chr(0xdfff))\nsys.stderr.write(chr(0xdc80))",
         expect={"pass"}, check="writable"),
    dict(name="surrogate_captured", program="x = 1", capture="__leti_capture__ = {chr(0xd800): [chr(0xdfff), 'ok']}",
         expect={"pass"}, check="writable"),
    dict(name="surrogate_exception_message", program="raise ValueError(chr(0xd800) * 3)", expect={"error"},
         check="writable"),
    dict(name="surrogate_assert_message", program="x = 1", tests="assert x == 2, chr(0xdfff)", expect={"fail"},
         check="writable"),
    dict(name="raw_bytes_output", program="import sys\nsys.stdout.buffer.write(bytes(range(256)) * 4)\n"
         "sys.stderr.buffer.write(b'\\xed\\xa0\\x80')", expect={"pass"}, check="writable"),
    dict(name="surrogate_id_and_meta", program="x = 1", id="id-\ud800", meta={"k\udfff": "\ud800"}, expect={"pass"},
         check="writable"),
    # --- limits out of range are input errors, before any program runs ---
    dict(name="timeout_huge", program="while True:\n    pass", limits={"timeout": 1e12}, expect={"rejected"}),
    dict(name="timeout_3e6", program="while True:\n    pass", limits={"timeout": 3e6}, expect={"rejected"}),
    dict(name="timeout_nan", program="x = 1", limits={"timeout": float("nan")}, expect={"rejected"}),
    dict(name="timeout_inf", program="x = 1", limits={"timeout": float("inf")}, expect={"rejected"}),
    dict(name="timeout_zero", program="x = 1", limits={"timeout": 0}, expect={"rejected"}),
    dict(name="memory_huge", program="x = 1", limits={"memory_mb": 10 ** 12}, expect={"rejected"}),
    dict(name="memory_negative", program="x = 1", limits={"memory_mb": -5}, expect={"rejected"}),
]
