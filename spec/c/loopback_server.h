/*
 * loopback_server.h: a tiny HTTP/1.1 server on 127.0.0.1, in a thread, for the C
 * tests that need a real peer (test_transport.c, test_stream.c). Persistent
 * connections; three answers, chosen by srv.what before a request:
 *   SERVE_OK     200 with LOOPBACK_OK_BODY (an event stream, Content-Length framed)
 *   SERVE_429    429 with Retry-After: 7 and LOOPBACK_ERROR_BODY (JSON)
 *   SERVE_STALL  200 with LOOPBACK_STALL_BODY, then silence; srv.saw_close notes the
 *                client hanging up
 * The including file defines the three bodies (string literals) before including
 * this header, and registers start_server/stop_server as its group's setup and
 * teardown. The last request's head and body are kept in srv.last_request.
 */
#ifndef LOOPBACK_SERVER_H
#define LOOPBACK_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum scenario { SERVE_OK, SERVE_429, SERVE_STALL } scenario;

typedef struct loopback_server {
    int fd;
    int port;
    pthread_t thread;
    volatile int accepts;
    volatile int saw_close; /* a stalled response's client hung up */
    volatile scenario what;
    char last_request[8192];
} loopback_server;

static loopback_server srv;

/* Reads one request (head, then a Content-Length body) into out; -1 when the
 * client is gone. */
static int read_request(int fd, char *out, size_t cap)
{
    size_t len = 0;
    char *end;
    long content_length = 0;
    const char *cl;

    for (;;) {
        ssize_t n = recv(fd, out + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        out[len] = '\0';
        end = strstr(out, "\r\n\r\n");
        if (end != NULL)
            break;
    }
    cl = strcasestr(out, "content-length:");
    if (cl != NULL)
        content_length = strtol(cl + 15, NULL, 10);
    while ((long)(len - (size_t)(end + 4 - out)) < content_length) {
        ssize_t n = recv(fd, out + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        out[len] = '\0';
    }
    return 0;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void respond(int fd, const char *status_line, const char *extra_headers, const char *type,
                    const char *body)
{
    char head[512];

    snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
             status_line, extra_headers, type, strlen(body));
    send_all(fd, head, strlen(head));
    send_all(fd, body, strlen(body));
}

/* Sends the stall body, then waits (at most 5 s) to see the client hang up. */
static void stall(int fd)
{
    const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char byte;

    send_all(fd, head, strlen(head));
    send_all(fd, LOOPBACK_STALL_BODY, strlen(LOOPBACK_STALL_BODY));
    if (poll(&pfd, 1, 5000) == 1 && recv(fd, &byte, 1, 0) <= 0)
        srv.saw_close = 1;
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv.fd, NULL, NULL);

        if (fd < 0)
            return NULL;
        srv.accepts++;
        while (read_request(fd, srv.last_request, sizeof(srv.last_request)) == 0) {
            if (srv.what == SERVE_OK) {
                respond(fd, "200 OK", "", "text/event-stream", LOOPBACK_OK_BODY);
            } else if (srv.what == SERVE_429) {
                respond(fd, "429 Too Many Requests", "Retry-After: 7\r\n", "application/json",
                        LOOPBACK_ERROR_BODY);
            } else {
                stall(fd);
                break;
            }
        }
        close(fd);
    }
}

static int start_server(void **state)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int one = 1;

    (void)state;
    memset(&srv, 0, sizeof(srv));
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(srv.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(srv.fd, 16) != 0)
        return -1;
    getsockname(srv.fd, (struct sockaddr *)&addr, &len);
    srv.port = ntohs(addr.sin_port);
    return pthread_create(&srv.thread, NULL, serve, NULL);
}

static int stop_server(void **state)
{
    (void)state;
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(srv.thread, NULL);
    return 0;
}

#endif
