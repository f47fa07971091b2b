/* The C load generator of `python3 -m bench` (engine "c", bench/native.py builds and runs it).
 *
 * Why: the Python clients spend 40-110 us of CPU per request, as much as the servers they load,
 * so on two cores the client, not the server, set the pace of benchmarks 5 and 10. This one
 * spends a few microseconds per request and does exactly what bench/client.py's raw engine does:
 * N workers, each one keep-alive request at a time to a target picked at random (seeded per
 * worker), idle connections pooled per address and shared by the workers, until the deadline.
 *
 * stdin:  "connections duration_ms seed_hash targets addresses\n", then per address
 *         "a.b.c.d port\n", then per target "address_index length\n" and `length` raw bytes
 *         (the whole HTTP/1.1 request).
 * stdout: one JSON object: requests, seconds, non2xx, socket_errors, statuses, p50_ms, p99_ms,
 *         cpu_s (the keys of bench/client.py's output).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFFER 65536          /* a worker's first reply buffer; it doubles for larger replies */
#define MAX_HEAD 65536        /* reply headers longer than this are an error */
#define MAX_REPLY (64 << 20)  /* and so is a reply larger than this */
#define MAX_EVENTS 256
#define REQUEST_TIMEOUT_NS 10000000000LL /* a request unanswered this long after the end: an error */

typedef struct {
    struct sockaddr_in address;
    int *idle; /* a stack of idle connected sockets */
    int idle_count, idle_capacity;
} Address;

typedef struct {
    int address;
    size_t length;
    char *bytes;
} Target;

enum { CLOSED, IDLE, BUSY }; /* a socket's state: every open socket stays in the epoll set */

typedef struct {
    int fd; /* -1 when the worker is between requests */
    int target;
    uint64_t rng;
    long long started;
    size_t written;
    char *buffer;
    size_t used, capacity;
    int done;
} Worker;

static Address *addresses;
static Target *targets;
static int target_count, address_count;
static long long *latencies; /* nanoseconds */
static size_t latency_count, latency_capacity;
static long long statuses[600];
static long long socket_errors;
static unsigned char *fd_state; /* by fd: CLOSED, IDLE or BUSY */
static int *fd_address;         /* by fd: the address an open socket is connected to */
static int *owner;              /* by fd: the worker whose request is on it, or -1 */
static int fd_limit;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static uint64_t next_random(uint64_t *state) { /* xorshift64* */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

static void record_latency(long long ns) {
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 65536;
        latencies = realloc(latencies, latency_capacity * sizeof *latencies);
        if (!latencies) {
            perror("realloc");
            exit(2);
        }
    }
    latencies[latency_count++] = ns;
}

static void push_idle(Address *a, int fd) {
    if (a->idle_count == a->idle_capacity) {
        a->idle_capacity = a->idle_capacity ? a->idle_capacity * 2 : 8;
        a->idle = realloc(a->idle, a->idle_capacity * sizeof *a->idle);
        if (!a->idle) {
            perror("realloc");
            exit(2);
        }
    }
    a->idle[a->idle_count++] = fd;
}

static void close_socket(int epoll, int fd) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    fd_state[fd] = CLOSED;
}

/* A new connected socket in the epoll set (data: its fd), or -1. */
static int connect_to(int epoll, int index) {
    const Address *a = &addresses[index];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (fd >= fd_limit) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&a->address, sizeof a->address) != 0) { /* loopback: at once */
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
        close(fd);
        return -1;
    }
    fd_state[fd] = BUSY;
    fd_address[fd] = index;
    return fd;
}

/* An idle socket to the address from its pool (skipping entries closed or reused since), or -1. */
static int pop_idle(Address *a, int index) {
    while (a->idle_count) {
        int fd = a->idle[--a->idle_count];
        if (fd_state[fd] == IDLE && fd_address[fd] == index) {
            fd_state[fd] = BUSY;
            return fd;
        }
    }
    return -1;
}

/* Where the reply ends in buf[0..used) (> 0), 0 while incomplete, -1 when it cannot be read. */
static long reply_end(const char *buf, size_t used, int *status, int *closing) {
    const char *head_end = memmem(buf, used, "\r\n\r\n", 4);
    if (!head_end)
        return used > MAX_HEAD ? -1 : 0;
    size_t head = (size_t)(head_end - buf) + 4;
    if (used < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(buf + 9);
    long length = -1;
    int chunked = 0;
    *closing = 0;
    for (const char *line = memchr(buf, '\n', head) + 1; line < buf + head - 2;) {
        const char *eol = memchr(line, '\n', (size_t)(buf + head - line));
        if (!eol)
            break;
        if (strncasecmp(line, "content-length:", 15) == 0)
            length = atol(line + 15);
        else if (strncasecmp(line, "transfer-encoding:", 18) == 0 && memmem(line, (size_t)(eol - line), "chunked", 7))
            chunked = 1;
        else if (strncasecmp(line, "connection:", 11) == 0 && memmem(line, (size_t)(eol - line), "close", 5))
            *closing = 1;
        line = eol + 1;
    }
    if (length >= 0)
        return used >= head + (size_t)length ? (long)(head + (size_t)length) : 0;
    if (!chunked)
        return -1;
    size_t position = head;
    for (;;) {
        const char *eol = memmem(buf + position, used - position, "\r\n", 2);
        if (!eol)
            return 0;
        long size = strtol(buf + position, NULL, 16);
        if (size < 0)
            return -1;
        position = (size_t)(eol - buf) + 2 + (size_t)size + 2;
        if (position > used)
            return 0;
        if (size == 0)
            return (long)position;
    }
}

static void fail(int epoll, Worker *w) {
    socket_errors++;
    if (w->fd >= 0) {
        owner[w->fd] = -1;
        close_socket(epoll, w->fd);
    }
    w->fd = -1;
}

/* Start the worker's next request; 0 when it has stopped (deadline passed). */
static int start(int epoll, Worker *w, int index, long long deadline) { /* index: w's in workers */
    for (;;) {
        long long t = now_ns();
        if (t >= deadline) {
            w->done = 1;
            return 0;
        }
        w->target = target_count > 1 ? (int)(next_random(&w->rng) % (uint64_t)target_count) : 0;
        int address = targets[w->target].address;
        int fd = pop_idle(&addresses[address], address);
        if (fd < 0)
            fd = connect_to(epoll, address);
        if (fd < 0) {
            socket_errors++;
            continue;
        }
        w->fd = fd;
        owner[fd] = index;
        w->used = 0;
        w->written = 0;
        w->started = t;
        const Target *target = &targets[w->target];
        ssize_t n = write(fd, target->bytes, target->length);
        if (n < 0 && errno != EAGAIN) {
            fail(epoll, w);
            continue;
        }
        w->written = n > 0 ? (size_t)n : 0;
        if (w->written < target->length) {
            struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)fd};
            epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
        }
        return 1;
    }
}

static void on_event(int epoll, Worker *w, int index, uint32_t events, long long deadline) { /* w->fd's event */
    const Target *target = &targets[w->target];
    if ((events & EPOLLOUT) && w->written < target->length) {
        ssize_t n = write(w->fd, target->bytes + w->written, target->length - w->written);
        if (n < 0 && errno != EAGAIN) {
            fail(epoll, w);
            start(epoll, w, index, deadline);
            return;
        }
        if (n > 0)
            w->written += (size_t)n;
        if (w->written == target->length) {
            struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)w->fd};
            epoll_ctl(epoll, EPOLL_CTL_MOD, w->fd, &event);
        }
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    if (w->used == w->capacity) { /* a reply larger than the buffer so far */
        if (w->capacity >= MAX_REPLY) {
            fail(epoll, w);
            start(epoll, w, index, deadline);
            return;
        }
        w->capacity *= 2;
        w->buffer = realloc(w->buffer, w->capacity);
        if (!w->buffer) {
            perror("realloc");
            exit(2);
        }
    }
    ssize_t n = read(w->fd, w->buffer + w->used, w->capacity - w->used);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        fail(epoll, w);
        start(epoll, w, index, deadline);
        return;
    }
    w->used += (size_t)n;
    int status = 0, closing = 0;
    long end = reply_end(w->buffer, w->used, &status, &closing);
    if (end == 0)
        return;
    if (end < 0 || (size_t)end != w->used) { /* unreadable, or bytes nobody asked for */
        fail(epoll, w);
        start(epoll, w, index, deadline);
        return;
    }
    record_latency(now_ns() - w->started);
    statuses[status > 0 && status < 600 ? status : 0]++;
    owner[w->fd] = -1;
    if (closing) {
        close_socket(epoll, w->fd);
    } else {
        fd_state[w->fd] = IDLE;
        push_idle(&addresses[target->address], w->fd);
    }
    w->fd = -1;
    start(epoll, w, index, deadline);
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(double fraction) {
    size_t i = (size_t)(fraction * (double)latency_count);
    if (i >= latency_count)
        i = latency_count - 1;
    return (double)latencies[i] / 1e6;
}

int main(void) {
    int connections;
    long long duration_ms;
    unsigned long long seed;
    if (scanf("%d %lld %llu %d %d", &connections, &duration_ms, &seed, &target_count, &address_count) != 5 ||
        connections < 1 || target_count < 1 || address_count < 1) {
        fprintf(stderr, "cclient: a bad spec header\n");
        return 2;
    }
    addresses = calloc((size_t)address_count, sizeof *addresses);
    targets = calloc((size_t)target_count, sizeof *targets);
    for (int i = 0; i < address_count; i++) {
        char host[64];
        int port;
        if (scanf("%63s %d", host, &port) != 2 || inet_pton(AF_INET, host, &addresses[i].address.sin_addr) != 1) {
            fprintf(stderr, "cclient: a bad address line\n");
            return 2;
        }
        addresses[i].address.sin_family = AF_INET;
        addresses[i].address.sin_port = htons((uint16_t)port);
    }
    for (int i = 0; i < target_count; i++) {
        if (scanf("%d %zu", &targets[i].address, &targets[i].length) != 2 || targets[i].address < 0 ||
            targets[i].address >= address_count || getchar() != '\n') {
            fprintf(stderr, "cclient: a bad target line\n");
            return 2;
        }
        targets[i].bytes = malloc(targets[i].length);
        if (fread(targets[i].bytes, 1, targets[i].length, stdin) != targets[i].length) {
            fprintf(stderr, "cclient: a short target\n");
            return 2;
        }
    }
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    fd_limit = files.rlim_cur == RLIM_INFINITY || files.rlim_cur > (1 << 20) ? 1 << 20 : (int)files.rlim_cur;
    fd_state = calloc((size_t)fd_limit, 1);
    fd_address = calloc((size_t)fd_limit, sizeof *fd_address);
    owner = malloc((size_t)fd_limit * sizeof *owner);
    memset(owner, 0xff, (size_t)fd_limit * sizeof *owner);
    Worker *workers = calloc((size_t)connections, sizeof *workers);
    long long began = now_ns(), deadline = began + duration_ms * 1000000LL;
    int active = 0;
    for (int i = 0; i < connections; i++) {
        workers[i].fd = -1;
        workers[i].rng = (seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1))) | 1;
        workers[i].buffer = malloc(BUFFER);
        workers[i].capacity = BUFFER;
        active += start(epoll, &workers[i], i, deadline);
    }
    struct epoll_event events[MAX_EVENTS];
    while (active > 0) {
        long long left = deadline + REQUEST_TIMEOUT_NS - now_ns();
        if (left <= 0)
            break;
        int n = epoll_wait(epoll, events, MAX_EVENTS, (int)(left / 1000000 + 1));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            int fd = (int)events[i].data.u64;
            if (fd_state[fd] == BUSY && owner[fd] >= 0)
                on_event(epoll, &workers[owner[fd]], owner[fd], events[i].events, deadline);
            else if (fd_state[fd] == IDLE) /* the server closed an idle connection (or spoke unasked) */
                close_socket(epoll, fd);
        }
        active = 0;
        for (int i = 0; i < connections; i++)
            active += !workers[i].done || workers[i].fd >= 0;
    }
    for (int i = 0; i < connections; i++) /* still unanswered: an error each */
        if (workers[i].fd >= 0)
            socket_errors++;
    double seconds = (double)(now_ns() - began) / 1e9;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
                 usage.ru_stime.tv_usec / 1e6;
    long long requests = 0, non2xx = 0;
    printf("{\"statuses\": {");
    const char *comma = "";
    for (int s = 0; s < 600; s++) {
        if (!statuses[s])
            continue;
        requests += statuses[s];
        if (s < 200 || s >= 300)
            non2xx += statuses[s];
        printf("%s\"%d\": %lld", comma, s, statuses[s]);
        comma = ", ";
    }
    printf("}, \"requests\": %lld, \"seconds\": %.6f, \"non2xx\": %lld, \"socket_errors\": %lld, ", requests, seconds,
           non2xx, socket_errors);
    if (latency_count) {
        qsort(latencies, latency_count, sizeof *latencies, compare);
        printf("\"p50_ms\": %.4f, \"p99_ms\": %.4f, ", percentile_ms(0.50), percentile_ms(0.99));
    } else {
        printf("\"p50_ms\": null, \"p99_ms\": null, ");
    }
    printf("\"cpu_s\": %.6f}\n", cpu);
    return 0;
}
