// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting, watching and stopping phyllo-vmm processes (supervise.h).
 *
 * A VM runs as "phyllo-vmm --api-socket api.sock --serial file=serial.log
 * --disk path=OVERLAY ..." in its own folder (relative names: a Unix
 * socket's path has 108 bytes at most, a data folder may be deep; phyllod
 * reaches the socket through /proc/self/fd/N of the folder). The child
 * gets its own session and only its folder's files, so nothing ties it to
 * phyllod. One thread looks at the running VMs four times a second: our
 * children through waitpid (their exit status becomes the reason), adopted
 * ones through /proc (still that VM's phyllo-vmm, or gone).
 *
 * sup->lock orders a start against the watcher; nothing here waits on a
 * guest without a time limit.
 */
#include "manager/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"

#define WATCH_MS 250
#define START_LIMIT_S 60

struct sup {
	struct store *db;
	char vmm[PATH_MAX];
	pthread_mutex_t lock;
	pthread_t watcher;
	bool quit, started;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The VM's folder: its disk's. */
static void vm_dir(const struct store_vm *vm, char *out, size_t len)
{
	const char *slash = strrchr(vm->disk, '/');

	snprintf(out, len, "%.*s", slash ? (int)(slash - vm->disk) : 0, vm->disk);
}

/* True when pid is the phyllo-vmm of vm (its command line names vm's disk). */
static bool is_vm_process(const struct store_vm *vm)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	if (vm->pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", vm->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, vm->disk) != NULL;
}

static void record_end(struct sup *s, const struct store_vm *vm, const char *reason)
{
	char err[512];

	if (store_vm_set_state(s->db, vm->id, "exited", 0, vm->started, reason, err, sizeof(err)))
		pr_warn("VM %s: %s", vm->name, err);
	store_event(s->db, "vm.exit", vm->id, "VM %s: %s", vm->name, reason);
	pr_info("VM %s: %s", vm->name, reason);
}

static void status_reason(int st, char *out, size_t len)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		snprintf(out, len, "powered off");
	else if (WIFEXITED(st))
		snprintf(out, len, "phyllo-vmm exited with status %d (its log: vmm.log)",
			 WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "phyllo-vmm was killed by %s", strsignal(WTERMSIG(st)));
	else
		snprintf(out, len, "phyllo-vmm ended");
}

/* One look at every running VM, with s->lock held. */
static void check_all(struct sup *s, bool adopting)
{
	struct store_vm *list;
	size_t n;

	if (store_vm_list(s->db, &list, &n, NULL, 0))
		return;
	for (size_t i = 0; i < n; i++) {
		struct store_vm *vm = &list[i];
		char reason[160];
		int st;
		pid_t r;

		if (strcmp(vm->state, "running") != 0)
			continue;
		r = vm->pid > 0 ? waitpid(vm->pid, &st, WNOHANG) : -1;
		if (r == vm->pid) {
			status_reason(st, reason, sizeof(reason));
			record_end(s, vm, reason);
		} else if (r < 0 && !is_vm_process(vm)) {
			record_end(s, vm, adopting ? "ended while phyllod was not running"
						   : "ended (started by an earlier phyllod)");
		} else if (adopting) {
			pr_info("VM %s: running as process %d, adopted", vm->name, vm->pid);
		}
	}
	store_vm_list_free(list, n);
}

static void *watch(void *arg)
{
	struct sup *s = arg;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		if (s->quit) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		check_all(s, false);
		pthread_mutex_unlock(&s->lock);
		sleep_ms(WATCH_MS);
	}
}

static void find_vmm(struct sup *s, const char *vmm)
{
	char self[PATH_MAX];
	ssize_t n;

	if (!vmm)
		vmm = getenv("PHYLLO_VMM");
	if (vmm && *vmm) {
		snprintf(s->vmm, sizeof(s->vmm), "%s", vmm);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (strrchr(self, '/'))
			*strrchr(self, '/') = '\0';
		snprintf(s->vmm, sizeof(s->vmm), "%.*s/phyllo-vmm", PATH_MAX - 12, self);
		if (access(s->vmm, X_OK) == 0)
			return;
	}
	snprintf(s->vmm, sizeof(s->vmm), "phyllo-vmm");
}

int sup_open(struct sup **out, struct store *db, const char *vmm, char *err, size_t errlen)
{
	struct sup *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->db = db;
	find_vmm(s, vmm);
	pthread_mutex_init(&s->lock, NULL);
	check_all(s, true);
	ret = -pthread_create(&s->watcher, NULL, watch, s);
	if (ret) {
		errbuf_set(err, errlen, "the VM watcher thread: %s", strerror(-ret));
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	s->started = true;
	*out = s;
	return 0;
}

void sup_close(struct sup *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->watcher, NULL);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The arguments of a VM's phyllo-vmm (a NULL-terminated, malloc'd list). */
struct args {
	char *v[32];
	int n;
	bool oom;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n >= (int)(sizeof(a->v) / sizeof(a->v[0])) - 1) {
		a->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) < 0) {
		a->v[a->n] = NULL;
		a->oom = true;
	} else {
		a->n++;
	}
	va_end(ap);
}

static void build_args(struct sup *s, const struct store_vm *vm, struct args *a)
{
	json_t *cfg = json_loads(vm->config, 0, NULL);
	const char *k = json_string_value(json_object_get(cfg, "kernel"));
	const char *i = json_string_value(json_object_get(cfg, "initramfs"));
	const char *c = json_string_value(json_object_get(cfg, "cmdline"));

	add(a, "%s", s->vmm);
	add(a, "--api-socket");
	add(a, "api.sock");
	add(a, "--serial");
	add(a, "file=serial.log");
	add(a, "--cpus");
	add(a, "boot=%u", vm->cpus);
	add(a, "--memory");
	add(a, "size=%lluM", (unsigned long long)vm->memory_mib);
	add(a, "--disk");
	add(a, "path=%s", vm->disk);
	if (k) {
		add(a, "--kernel");
		add(a, "%s", k);
	}
	if (i) {
		add(a, "--initramfs");
		add(a, "%s", i);
	}
	if (c) {
		add(a, "--cmdline");
		add(a, "%s", c);
	}
	a->v[a->n] = NULL;
	json_decref(cfg);
}

static void free_args(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
}

/* The last line of the VM's vmm.log, for an error message. */
static void last_log_line(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX + 16], buf[4096];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/vmm.log", dir);
	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);

	if (end > 0)
		n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ?
			  end - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	const char *line = strrchr(buf, '\n');

	snprintf(out, len, "%.*s", (int)len - 1, line ? line + 1 : buf);
}

static pid_t spawn(const char *dir, struct args *a, char *err, size_t errlen)
{
	char log[PATH_MAX + 16], nope[PATH_MAX + 128];
	int nopelen = snprintf(nope, sizeof(nope), "phyllod: cannot run %s (not found or not "
			       "executable: set PHYLLO_VMM)\n", a->v[0]);
	int dirfd, logfd, nullfd;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/vmm.log", dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (dirfd < 0 || logfd < 0 || nullfd < 0) {
		errbuf_set(err, errlen, "%s: %s", dir, strerror(errno));
		pid = -1;
		goto out;
	}
	/* A stale socket of an earlier run would look like a live one. */
	unlinkat(dirfd, "api.sock", 0);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec: phyllod's
		 * signal mask (it waits for SIGTERM with sigwait) and its
		 * ignored SIGPIPE are not the VMM's. */
		sigset_t none;
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		sigemptyset(&none);
		sigaction(SIGPIPE, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (setsid() < 0 || fchdir(dirfd) < 0 || dup2(nullfd, 0) < 0 ||
		    dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(126);
		execvp(a->v[0], a->v);
		if (write(2, nope, (size_t)nopelen) < 0)
			_exit(127);
		_exit(127);
	}
	if (pid < 0)
		errbuf_set(err, errlen, "fork: %s", strerror(errno));
out:
	if (dirfd >= 0)
		close(dirfd);
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	return pid;
}

int sup_vm_start(struct sup *s, const char *ref, char id[STORE_ID_LEN + 1], char *err,
		 size_t errlen)
{
	struct store_vm vm = {0};
	struct args a = {0};
	char dir[PATH_MAX], sock[PATH_MAX + 16];
	struct stat st;
	pid_t pid;
	int ret, status;

	pthread_mutex_lock(&s->lock);
	ret = store_vm_resolve(s->db, ref, id, err, errlen);
	if (!ret)
		ret = store_vm_get(s->db, id, &vm, err, errlen);
	if (ret)
		goto out;
	if (strcmp(vm.state, "running") == 0) {
		errbuf_set(err, errlen, "VM %s is running already", vm.name);
		ret = -EBUSY;
		goto out;
	}
	vm_dir(&vm, dir, sizeof(dir));
	build_args(s, &vm, &a);
	if (a.oom) {
		errbuf_set(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	pid = spawn(dir, &a, err, errlen);
	if (pid < 0) {
		ret = -EIO;
		goto out;
	}
	/* Running once its API answers; a phyllo-vmm that refuses its
	 * configuration ends first, and its last words are the error. */
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	for (int i = 0; i < START_LIMIT_S * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			char line[300];

			last_log_line(dir, line, sizeof(line));
			errbuf_set(err, errlen, "VM %s: phyllo-vmm (%s) ended at start%s%s", vm.name,
				   s->vmm, line[0] ? ": " : "", line);
			ret = -ECHILD;
			goto out;
		}
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			break;
		sleep_ms(100);
	}
	ret = store_vm_set_state(s->db, vm.id, "running", pid, (int64_t)time(NULL), "", err,
				 errlen);
	if (ret) {
		/* Removed meanwhile: the process has nothing left to run. */
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		goto out;
	}
	store_event(s->db, "vm.start", vm.id, "VM %s started (process %d)", vm.name, pid);
	pr_info("VM %s: started, process %d", vm.name, pid);
out:
	pthread_mutex_unlock(&s->lock);
	free_args(&a);
	store_vm_clear(&vm);
	return ret;
}

/* PUT /api/v1/WHAT on the VM's API socket; the HTTP status or -errno. */
static int api_put(const char *dir, const char *what)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	char req[256], buf[256];
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret = -EIO, len, status;
	ssize_t n;

	if (dirfd < 0 || fd < 0) {
		ret = -errno;
		goto out;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/api.sock", dirfd);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	len = snprintf(req, sizeof(req), "PUT /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
		       "Content-Length: 0\r\nConnection: close\r\n\r\n", what);
	if (write(fd, req, (size_t)len) != len)
		goto out;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "HTTP/1.%*d %d", &status) == 1)
			ret = status;
	}
out:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/* Wait up to ms for the watcher to record the VM's end. */
static bool wait_exited(struct sup *s, const char *id, unsigned ms)
{
	for (unsigned t = 0; t <= ms; t += 100) {
		struct store_vm vm = {0};
		bool done = store_vm_get(s->db, id, &vm, NULL, 0) != 0 ||
			    strcmp(vm.state, "running") != 0;

		store_vm_clear(&vm);
		if (done)
			return true;
		sleep_ms(100);
	}
	return false;
}

int sup_vm_stop(struct sup *s, const char *ref, unsigned timeout_s, char id[STORE_ID_LEN + 1],
		char *err, size_t errlen)
{
	struct store_vm vm = {0};
	char dir[PATH_MAX];
	int ret = store_vm_resolve(s->db, ref, id, err, errlen);

	if (!ret)
		ret = store_vm_get(s->db, id, &vm, err, errlen);
	if (ret)
		return ret;
	if (strcmp(vm.state, "running") != 0)
		goto done; /* as docker stop: nothing to do */
	vm_dir(&vm, dir, sizeof(dir));
	if (timeout_s) {
		int st = api_put(dir, "vm.power-button");

		if (st != 204 && st != 200)
			pr_warn("VM %s: power button: %s", vm.name,
				st < 0 ? strerror(-st) : "refused by phyllo-vmm");
		else if (wait_exited(s, id, timeout_s * 1000))
			goto pressed;
	}
	/* The watcher holds s->lock while it looks: our kill lands on the
	 * process it has not reaped yet, never on a reused pid. */
	pthread_mutex_lock(&s->lock);
	if (is_vm_process(&vm))
		kill(vm.pid, SIGKILL);
	pthread_mutex_unlock(&s->lock);
	if (!wait_exited(s, id, 10000)) {
		errbuf_set(err, errlen, "VM %s: process %d did not end after SIGKILL", vm.name,
			   vm.pid);
		store_vm_clear(&vm);
		return -EIO;
	}
	if (timeout_s)
		store_event(s->db, "vm.kill", id, "VM %s: killed after %u s without powering off",
			    vm.name, timeout_s);
done:
	store_vm_clear(&vm);
	return 0;
pressed:
	/* An adopted process's exit status is its old parent's to know: say
	 * what we do know. */
	{
		struct store_vm now = {0};

		if (store_vm_get(s->db, id, &now, NULL, 0) == 0 &&
		    strcmp(now.state, "exited") == 0 && strncmp(now.reason, "ended", 5) == 0)
			store_vm_set_state(s->db, id, "exited", 0, now.started,
					   "ended after its power button was pressed", NULL, 0);
		store_vm_clear(&now);
	}
	goto done;
}

int sup_vm_log(struct sup *s, const char *ref, size_t max, char **text, char *err,
	       size_t errlen)
{
	struct store_vm vm = {0};
	char id[STORE_ID_LEN + 1], dir[PATH_MAX], path[PATH_MAX + 16];
	char *buf;
	ssize_t n = 0;
	off_t end;
	int fd, ret = store_vm_resolve(s->db, ref, id, err, errlen);

	*text = NULL;
	if (!ret)
		ret = store_vm_get(s->db, id, &vm, err, errlen);
	if (ret)
		return ret;
	vm_dir(&vm, dir, sizeof(dir));
	store_vm_clear(&vm);
	snprintf(path, sizeof(path), "%s/serial.log", dir);
	buf = malloc(max + 1);
	if (!buf) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		end = lseek(fd, 0, SEEK_END);
		if (end > 0)
			n = pread(fd, buf, max, end > (off_t)max ? end - (off_t)max : 0);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	*text = buf;
	return 0;
}
