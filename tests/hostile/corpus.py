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
    dict(name="write_tmp", program="open('@TMP_FILE@', 'w').write('x')", expect={"pass", "error"}, check="no_tmp_file"),
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
    dict(name="udp_send", program="import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', @PORT@))", expect={"error", "pass"}, requires={"netns"}),  # the jail's own loopback: sent into nothing
    # --- processes / signals ---
    dict(name="kill_parent", program="import os\nos.kill(os.getppid(), 9)", expect={"error"}, requires={"uid"}),
    dict(name="kill_everything_visible", program="import os\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n        try:\n            os.kill(int(p), 9)\n        except OSError:\n            pass",
         expect={"pass"}, requires={"uid"}),
    dict(name="kill_minus_one", program="import os\nos.kill(-1, 9)\nos.kill(os.getpid(), 9)", expect={"error"}, requires={"uid"}),
    dict(name="nonterminating_thread", program="import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()", expect={"pass"}),
    dict(name="nonterminating_thread_failing", program="import threading\ndef spin():\n    while True:\n        pass\nthreading.Thread(target=spin).start()",
         tests="assert 1 == 2", expect={"fail"}),
    # (no /usr/bin in the jail: Popen fails there; without the jail the sleep must still be killed)
    dict(name="popen_sleep", program="import subprocess\nsubprocess.Popen(['sleep', '1000'])", expect={"pass", "error"}),
    dict(name="popen_setsid_sleep", program="import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True, stdout=subprocess.DEVNULL)", expect={"pass", "error"}),
    dict(name="popen_python_sleep", program="import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)'])", expect={"pass"}),
    dict(name="fork_orphan", program="import os, time\nif os.fork() == 0:\n    time.sleep(1000)", expect={"pass", "error"}),
    dict(name="double_fork_daemon", program="import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(1000)\n    os._exit(0)",
         expect={"pass"}),
    dict(name="fork_child_passes_parent_fails", program="import os\ndef f():\n    return os.fork()", tests="pid = f()\nassert pid == 0",
         expect={"fail"}),
    dict(name="ctypes_segfault", program="import ctypes\nctypes.string_at(0)", expect={"error"}, check="signal"),
    dict(name="setuid_root", program="import os\nos.setuid(0)", expect={"error"}, requires={"uid"}),
    # --- early exits must not pass ---
    dict(name="sys_exit_0", program="import sys\nsys.exit(0)", tests="assert False", expect={"error"}),
    dict(name="os_exit_0", program="import os\nos._exit(0)", tests="assert False", expect={"error"}),
    dict(name="raise_systemexit_0", program="raise SystemExit(0)", tests="assert False", expect={"error"}),
    dict(name="builtin_exit", program="exit()", tests="assert False", expect={"error"}),
    dict(name="exit_in_tests_region", program="import sys\ndef f():\n    return 1", tests="sys.exit(0)\nassert f() == 2", expect={"error"}),
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
_FRAMES = "import sys\ndef _frames():\n    fr = sys._getframe()\n    while fr is not None:\n        yield fr\n        fr = fr.f_back\n"
_NONCE = _FRAMES + "nonce = next(fr.f_locals['nonce'] for fr in _frames() if isinstance(fr.f_locals.get('nonce'), str))\n"
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
    dict(name="run_and_var_tmp_are_private", program="import os\nseen = [n for d in ('/run', '/var/tmp') if os.path.isdir(d) for n in os.listdir(d)]",
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

# Issue #22: the jail's view of the host, the worker's and the judge's channels, kernel surfaces, cleanup
# bounds, values in every output field, cost amplification. `requires={"jail"}`: the layer that stops it
# is the bubblewrap jail (pidns+mntns), absent at the fallback level.
_HONEST_F = "def f(x):\n    return 2 * x\n"
_F_TESTS = "assert f(1) == 2\nassert f(2) == 4"
CORPUS += [
    # --- host files and /proc: nothing of the host, the parent, the batch or the benchmark is visible ---
    dict(name="read_benchmark_data", program="open('@DATA_ROOT@/mbpp/mbpp.jsonl').read()", expect={"error"},
         requires={"jail"}),
    dict(name="list_benchmark_root", program="import os\nfound = os.listdir('@DATA_ROOT@')", expect={"error"},
         requires={"jail"}),
    dict(name="read_repo_readme", program="open('@REPO@/README.md').read()", expect={"error"}, requires={"jail"}),
    dict(name="list_repo_and_work", program="import os\nfound = sorted(os.listdir('@REPO@'))",
         tests="assert set(found) <= {'leti', '.venv'}, found", expect={"pass", "error"}, requires={"jail"}),
    dict(name="walk_home", program="import os\nfound = [(d, f) for d, _, f in os.walk('/root') if f][:3]",
         tests="assert all('.pyenv' in d for d, _ in found), found", expect={"pass"}, requires={"jail"}),
    dict(name="read_host_passwd_and_ssh", program="import os\nfound = [p for p in ('/etc/passwd', '/etc/shadow', "
         "'/root/.ssh', '/root/.bash_history', '/etc/hostname') if os.path.exists(p)]",
         tests="assert found == [], found", expect={"pass"}, requires={"jail"}),
    dict(name="proc_lists_only_the_jail", program=(
        "import os\ncmds = []\nfor p in os.listdir('/proc'):\n    if p.isdigit():\n        try:\n"
        "            cmds.append(open('/proc/%s/cmdline' % p, 'rb').read())\n        except OSError:\n            pass"),
        tests="assert not [c for c in cmds if b'pytest' in c or b'executor.judge' in c or b'snakemake' in c], cmds",
        expect={"pass"}, requires={"jail"}),
    dict(name="proc_parent_and_judge_memory", program=(
        "import os\nfound = []\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n"
        "        for f in ('mem', 'environ', 'maps'):\n            try:\n"
        "                found.append((p, f, open('/proc/%s/%s' % (p, f), 'rb').read(64)))\n"
        "            except OSError:\n                pass"),
        tests="assert all(f != 'mem' for _, f, _ in found), found", expect={"pass"}, requires={"jail"}),
    dict(name="proc_root_escape", program="import os\nfound = os.listdir('/proc/1/root/')", tests="assert 'work' not in found or True",
         expect={"error", "pass"}, requires={"jail"}),
    dict(name="sys_and_cgroup_tree", program="import os\nfound = os.listdir('/sys/fs/cgroup') if os.path.isdir('/sys/fs/cgroup') else []",
         tests="assert len(found) <= 2, found", expect={"pass"}, requires={"jail"}),
    # --- forged messages on the worker's result pipe (fd 3) ---
    dict(name="forged_record_wrong_types", program=_NONCE + (
        "import os, json\nos.write(3, (json.dumps({'status': 'fail', 'nonce': nonce, 'pid': os.getpid(), 'exc_type': "
        "{'a': [1]}, 'feedback': 123, 'message': ['x'], 'failed_test': 7}) + '\\n').encode())\nos._exit(0)"),
        tests=_F_TESTS, expect={"error"}),
    dict(name="forged_record_deep_capture", program=_NONCE + (
        "import os\ndeep = '[' * 200000 + ']' * 200000\n"
        "os.write(3, ('{\"status\": \"pass\", \"nonce\": \"%s\", \"pid\": %d, \"captured\": %s}\\n' % (nonce, os.getpid(), deep)).encode())\n"
        "os._exit(0)"), tests=_F_TESTS, expect={"error", "pass"}, check="writable"),
    dict(name="forged_record_crafted_exc_type", program=_NONCE + (
        "import os, json\nname = '\\n' * 1000 + '\\udc80' + 'E' * 100000\n"
        "os.write(3, (json.dumps({'status': 'error', 'nonce': nonce, 'pid': os.getpid(), 'exc_type': name, "
        "'feedback': name * 3, 'message': name}) + '\\n').encode())\nos._exit(0)"), tests=_F_TESTS,
         expect={"error"}, check="writable"),
    # (the result pipe is read when the worker wakes anyway: a flood that fills it waits for the deadline)
    dict(name="result_pipe_newline_flood", program="import os\nchunk = b'\\n' * (1 << 20)\nfor _ in range(31):\n    os.write(3, chunk)\n" + _HONEST_F,
         tests=_F_TESTS, expect={"pass", "output_limit", "error", "timeout"}, check="fast"),
    dict(name="result_pipe_many_nonce_lines", program=_NONCE + "import os\nline = ('{\"nonce\": \"%s\", \"x\": 1}\\n' % nonce).encode()\n"
         "os.write(3, line * 200000)\n" + _HONEST_F, tests=_F_TESTS, expect={"pass", "error", "output_limit", "timeout"},
         check="fast"),
    dict(name="result_pipe_status_harness_error", program=_NONCE + (
        "import os, json\nos.write(3, (json.dumps({'status': 'harness_error', 'nonce': nonce, 'pid': os.getpid()}) + '\\n').encode())\n"
        "os._exit(0)"), tests=_F_TESTS, expect={"error"}),
    # --- forged messages on the judge's call channel (fd 6: answers; fd 5: requests) ---
    dict(name="channel_garbage_header", program="import os\nos.write(6, b'zzzzzzzz{not json}')\n" + _HONEST_F,
         tests=_F_TESTS, expect={"pass", "error"}),
    dict(name="channel_huge_length", program="import os\nos.write(6, b'ffffffff')\n" + _HONEST_F,
         tests=_F_TESTS, expect={"pass", "error"}),
    dict(name="channel_newline_flood", program="import os, threading\n"
         "def flood():\n    try:\n        while True:\n            os.write(6, b'\\n' * 65536)\n    except OSError:\n        pass\n"
         "threading.Thread(target=flood, daemon=True).start()\n" + _HONEST_F,
         tests=_F_TESTS, expect={"pass", "error"}, check="fast"),
    # answers written ahead by the program's own code are values it claims: no more than returning them
    dict(name="channel_forged_answers", program=(
        "import os, json\nans = json.dumps({'n': 1, 'names': {'f': {'v': {'h': 1}}}}).encode()\n"
        "os.write(6, b'%08x' % len(ans) + ans)\n"
        "for n in range(2, 40):\n    a = json.dumps({'n': n, 'r': {'h': 99}}).encode()\n    os.write(6, b'%08x' % len(a) + a)\n"
        "def f(x):\n    return 0"), tests=_F_TESTS, expect={"fail", "error", "unverifiable"}),
    dict(name="channel_forged_exception_answer", program=(
        "import os, json\nfor n in range(1, 40):\n    a = json.dumps({'n': n, 'e': {'type': 'AssertionError\\nX', 'builtin': True,"
        " 'args': {'zz': 1}, 'text': 'x' * 100000, 'chunks': ['c' * 10000] * 100}}).encode()\n"
        "    os.write(6, b'%08x' % len(a) + a)\ndef f(x):\n    return 0"), tests=_F_TESTS, expect={"fail", "error", "timeout"}),
    dict(name="channel_deep_value", program="def f(x):\n    v = []\n    for _ in range(100000):\n        v = [v]\n    return v",
         tests=_F_TESTS, expect={"fail", "error", "unverifiable"}),
    dict(name="channel_colliding_set", program="def f(x):\n    m = (1 << 61) - 1\n    return {i * m for i in range(1, 3001)}",
         tests="assert f(1) == {1}", limits={"timeout": 10}, expect={"fail", "error", "unverifiable"}, check="fast"),
    dict(name="channel_huge_int", program="def f(x):\n    return 1 << 3000000", tests=_F_TESTS,
         expect={"fail", "error"}),
    dict(name="channel_huge_string", program="def f(x):\n    return 'x' * (40 << 20)", tests=_F_TESTS,
         limits={"memory_mb": 1024}, expect={"fail", "error", "unverifiable", "memory"}),
    dict(name="channel_crafted_exception", program=(
        "class E(Exception):\n    pass\nE.__name__ = '\\n\\x00' + 'A' * 100000\nE.__qualname__ = 'B' * 100000\n"
        "E.__module__ = '\\udc80' * 10\ndef f(x):\n    raise E('m' * 10000000)"), tests=_F_TESTS, expect={"error"},
         check="writable"),
    dict(name="channel_exception_with_bad_args", program=(
        "class E(ValueError):\n    def __str__(self):\n        raise RuntimeError('no')\n"
        "def f(x):\n    v = []\n    for _ in range(10000):\n        v = [v]\n    raise E(v, object())"), tests=_F_TESTS, expect={"error"}),
    dict(name="channel_slow_drip", program="import os, time\ndef f(x):\n    os.write(6, b'0000')\n    time.sleep(100)",
         tests=_F_TESTS, limits={"timeout": 1.0}, expect={"timeout", "error"}),
    dict(name="server_kills_its_parent", program="import os, signal\ndef f(x):\n    os.kill(os.getppid(), 9)\n    return 2 * x",
         tests=_F_TESTS, expect={"pass", "error"}),
    dict(name="server_exits_in_call", program="import os\ndef f(x):\n    os._exit(0)", tests=_F_TESTS, expect={"error"}),
    dict(name="server_segfaults", program="import ctypes\ndef f(x):\n    ctypes.string_at(0)", tests=_F_TESTS, expect={"error"}),
    dict(name="channel_flags_poisoned_for_the_next_program", program=(
        "import os, fcntl\nfor fd in (5, 6):\n    os.set_blocking(fd, False)\n    fcntl.fcntl(fd, 1031, 4096)\n"
        "w = os.open('/proc/self/fd/5', os.O_WRONLY | os.O_NONBLOCK)\nos.write(w, b'00000010{\"op\":\"exit\"}' * 50)\n"
        "stolen = b''\ntry:\n    stolen = os.read(5, 1 << 16)\nexcept BlockingIOError:\n    pass\n" + _HONEST_F),
        tests=_F_TESTS, expect={"pass", "error", "timeout"}, then=_CORRECT, then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    # --- kernel surfaces the seccomp filter closes ---
    dict(name="ptrace_own_child", program=_LIBC + (
        "import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(30)\n    os._exit(0)\n"
        "rc = libc.ptrace(16, pid, None, None)\nerr = ctypes.get_errno()\nrc2 = libc.ptrace(0, 0, None, None)"),
        tests="assert rc == -1 and rc2 == -1, (rc, rc2)", expect={"pass"}, requires={"seccomp"}),
    dict(name="ptrace_hangs_parent", program=_LIBC + (
        "import os, time\npid = os.fork()\nif pid == 0:\n    libc.ptrace(0, 0, None, None)\n    os.kill(os.getpid(), 19)\n"
        "    time.sleep(100)\n    os._exit(0)\ntime.sleep(0.2)\nx = 1"), tests="assert x == 1", expect={"pass"}),
    dict(name="process_vm_readv", program=_LIBC + "rc = libc.syscall(310, 1, None, 0, None, 0, 0)\nerr = ctypes.get_errno()",
         tests="assert rc == -1, rc", expect={"pass"}, requires={"seccomp"}),
    dict(name="keyring_add_key", program=_LIBC + (
        "rc = libc.syscall(248, b'user', b'leti-hostile', b'secret', 6, -3)"),  # add_key(..., KEY_SPEC_USER_KEYRING)
        tests="assert rc == -1, rc", expect={"pass"}, requires={"seccomp"},
        then=_LIBC + "rc = libc.syscall(250, 10, -3, b'user', b'leti-hostile', 0)",  # keyctl(KEYCTL_SEARCH, ...)
        then_tests="assert rc == -1, rc", then_expect={"pass"}),
    dict(name="bpf_perf_userfaultfd_iouring", program=_LIBC + (
        "rcs = [libc.syscall(321, 0, None, 0), libc.syscall(298, None, 0, -1, -1, 0), libc.syscall(323, 0),"
        " libc.syscall(425, 8, None)]"), tests="assert rcs == [-1, -1, -1, -1], rcs", expect={"pass"},
         requires={"seccomp"}),
    dict(name="unshare_and_mount", program=_LIBC + (
        "rcs = [libc.unshare(0x10000000), libc.unshare(0x00020000), libc.mount(b'none', b'/tmp', b'tmpfs', 0, None),"
        " libc.syscall(308, 0, 0)]"), tests="assert rcs == [-1, -1, -1, -1], rcs", expect={"pass"},
         requires={"seccomp"}),
    dict(name="clone_new_namespaces", program=(
        "import os\nrcs = []\nfor flag in ('CLONE_NEWUSER', 'CLONE_NEWNET', 'CLONE_NEWPID'):\n"
        "    try:\n        os.unshare(getattr(os, flag))\n        rcs.append(0)\n"
        "    except (OSError, AttributeError):\n        rcs.append(-1)"),
        tests="assert rcs == [-1, -1, -1], rcs", expect={"pass"}, requires={"seccomp"}),
    # --- wide and deep scratch trees: cleanup is bounded, the next program runs ---
    dict(name="wide_scratch_tree", program="import os\nfor i in range(60000):\n    open('f%d' % i, 'w').close()\n" + _HONEST_F,
         tests=_F_TESTS, limits={"timeout": 20}, expect={"pass", "timeout", "error"}, then=_CORRECT,
         then_tests=_CORRECT_TESTS, then_expect={"pass"}),
    dict(name="wide_and_deep_tmp_tree", program="import os\nfor i in range(300):\n    d = '/tmp/w%d' % i\n    os.makedirs(d + '/a/b/c/d/e')\n"
         "    for j in range(50):\n        open('%s/a/b/%d' % (d, j), 'w').close()\n" + _HONEST_F, tests=_F_TESTS,
         limits={"timeout": 20}, expect={"pass", "timeout", "error"}, then=_CORRECT, then_tests=_CORRECT_TESTS,
         then_expect={"pass"}),
    # --- deep or huge values in every output field ---
    dict(name="exception_name_crafted", program="class E(Exception):\n    pass\nE.__name__ = '\\udc80\\n' * 50000\nraise E('x')",
         expect={"error"}, check="writable"),
    dict(name="exception_str_raises", program="class E(Exception):\n    def __str__(self):\n        raise E()\nraise E()",
         expect={"error"}),
    dict(name="exception_repr_deep", program="v = []\nfor _ in range(100000):\n    v = [v]\nraise ValueError(v)",
         expect={"error"}),
    dict(name="captured_deep", program="v = []\nfor _ in range(100000):\n    v = [v]",
         capture="__leti_capture__ = v", expect={"pass"}, check="writable"),
    dict(name="captured_huge", program="x = 1", capture="__leti_capture__ = ['x' * 1000000] * 40",
         expect={"pass", "output_limit", "timeout"}, check="writable"),
    dict(name="assert_message_huge", program="x = 1", tests="assert x == 2, 'm' * 20000000", expect={"fail"}),
    dict(name="syntax_error_huge_line", program="x = (" + "1 + " * 200000, expect={"syntax_error"}),
    dict(name="syntax_error_deep_nesting", program="x = " + "(" * 5000 + ")" * 5000, expect={"syntax_error", "pass"}),
]
