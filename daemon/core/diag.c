/* diag.c — diagnostics list; see diag.h. */
#include "core/diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

/* Where the items' strings live: each block is filled front to back, and
 * only the newest (the head of the list) is ever written to. */
struct diag_block {
        struct diag_block *next;
        size_t used, size;
        char data[];
};

/* Blocks double from 4 KiB to 16 KiB: a file's first few dozen messages
 * cost one block, a hundred (the loaders' cap) two or three. */
#define DIAG_BLOCK_FIRST   4096
#define DIAG_BLOCK_LARGEST 16384

/* Room for SIZE bytes at the head of D's blocks, a new head if the
 * current one has too little left; NULL on ENOMEM. */
static char *diag_reserve(struct diagnostics *d, size_t size)
{
        struct diag_block *head = d->blocks;
        if (head && head->size - head->used >= size)
                return head->data + head->used;
        size_t cap = head ? head->size * 2 : DIAG_BLOCK_FIRST;
        if (cap > DIAG_BLOCK_LARGEST)
                cap = DIAG_BLOCK_LARGEST;
        if (cap < size)
                cap = size;
        struct diag_block *block = malloc(sizeof(*block) + cap);
        if (!block)
                return NULL;
        *block = (struct diag_block){ .next = head, .size = cap };
        d->blocks = block;
        return block->data;
}

__attribute__((format(printf, 6, 0))) static int diag_vadd(struct diagnostics *d, enum diag_severity severity,
                                                           const char *file, unsigned line, const char *key,
                                                           const char *fmt, va_list ap)
{
        if (diag_full(d)) {
                if (severity == DIAG_ERROR)
                        d->dropped_errors++;
                else
                        d->dropped_others++;
                return 0;
        }
        if (d->count == d->capacity) {
                /* 16, then 128 or the limit and its "… and N more": a
                 * loader's hundred items cost two arrays. */
                size_t cap = d->capacity ? d->capacity * 8 : 16;
                if (d->limit && d->count < d->limit && cap > d->limit + 1)
                        cap = d->limit + 1;
                struct diagnostic *items = realloc(d->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                d->items = items;
                d->capacity = cap;
        }
        /* Formatted straight into the head block's free space; only a
         * message that does not fit there is formatted again. */
        struct diag_block *head = d->blocks;
        char *at = head ? head->data + head->used : NULL;
        va_list copy;
        va_copy(copy, ap);
        int n = vsnprintf(at, head ? head->size - head->used : 0, fmt, copy);
        va_end(copy);
        if (n < 0)
                return -EINVAL;
        size_t mlen = (size_t)n, flen = file ? strlen(file) + 1 : 0, klen = key ? strlen(key) + 1 : 0;
        char *message = diag_reserve(d, mlen + 1 + flen + klen);
        if (!message)
                return -ENOMEM;
        if (message != at)
                vsnprintf(message, mlen + 1, fmt, ap);
        d->blocks->used += mlen + 1 + flen + klen;
        struct diagnostic *item = &d->items[d->count++];
        *item = (struct diagnostic){ .severity = severity, .line = line, .message = message };
        if (file)
                item->file = memcpy(message + mlen + 1, file, flen);
        if (key)
                item->key = memcpy(message + mlen + 1 + flen, key, klen);
        return 0;
}

int diag_add(struct diagnostics *d, enum diag_severity severity, const char *file, unsigned line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = diag_vadd(d, severity, file, line, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int diag_add_key(struct diagnostics *d, enum diag_severity severity, const char *file, unsigned line, const char *key,
                 const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = diag_vadd(d, severity, file, line, key, fmt, ap);
        va_end(ap);
        return r;
}

size_t diag_count(const struct diagnostics *d, enum diag_severity severity)
{
        size_t n = 0;
        for (size_t i = 0; i < d->count; i++)
                n += d->items[i].severity == severity;
        return n;
}

bool diag_full(const struct diagnostics *d) { return d->limit && d->count >= d->limit; }

int diag_add_dropped_summary(struct diagnostics *d, const char *file)
{
        size_t n = d->dropped_errors + d->dropped_others;
        if (n == 0)
                return 0;
        bool errors = d->dropped_errors > 0;
        size_t limit = d->limit;
        d->limit = 0;
        int r = diag_add(d, errors ? DIAG_ERROR : DIAG_WARNING, file, 0, "\u2026 and %zu more %s", n,
                         !errors             ? (n == 1 ? "warning" : "warnings")
                         : d->dropped_others ? "errors and warnings"
                         : n == 1            ? "error"
                                             : "errors");
        d->limit = limit;
        if (r == 0) {
                d->items[d->count - 1].dropped_errors = d->dropped_errors;
                d->items[d->count - 1].dropped_others = d->dropped_others;
                d->dropped_errors = d->dropped_others = 0;
        }
        return r;
}

int diag_move(struct diagnostics *to, struct diagnostics *from)
{
        if (to->count == 0) {
                /* The common case (a loader's list into its caller's
                 * empty one): the array changes hands, nothing is copied. */
                free(to->items);
                to->items = TAKE_PTR(from->items);
                to->capacity = from->capacity;
        } else if (to->count + from->count > to->capacity) {
                size_t cap = to->count + from->count;
                if (cap < to->capacity * 2)
                        cap = to->capacity * 2;
                struct diagnostic *items = realloc(to->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                to->items = items;
                to->capacity = cap;
        }
        if (from->items && from->count)
                memcpy(to->items + to->count, from->items, from->count * sizeof(*from->items));
        to->count += from->count;
        /* FROM's blocks go behind TO's head, which stays the one written to. */
        if (from->blocks) {
                struct diag_block *tail = from->blocks;
                while (tail->next)
                        tail = tail->next;
                if (to->blocks) {
                        tail->next = to->blocks->next;
                        to->blocks->next = from->blocks;
                } else
                        to->blocks = from->blocks;
        }
        free(from->items);
        *from = (struct diagnostics){ 0 };
        return 0;
}

void diag_fprint(FILE *out, const struct diagnostic *item)
{
        static const char *const names[] = { "error", "warning", "debug" };
        const char *severity = names[item->severity];

        if (item->file && item->line)
                fprintf(out, "%s:%u: %s: %s\n", item->file, item->line, severity, item->message);
        else if (item->file)
                fprintf(out, "%s: %s: %s\n", item->file, severity, item->message);
        else
                fprintf(out, "%s: %s\n", severity, item->message);
}

char *diag_first_error(const struct diagnostics *d)
{
        for (size_t i = 0; i < d->count; i++) {
                const struct diagnostic *it = &d->items[i];
                if (it->severity != DIAG_ERROR)
                        continue;
                size_t key_len = it->key ? strlen(it->key) : 0;
                bool keyed = it->key && !(strncmp(it->message, it->key, key_len) == 0 && it->message[key_len] == ':');
                char line[16] = "";
                if (it->line)
                        snprintf(line, sizeof(line), ":%u", it->line);
                char *s = NULL;
                if (asprintf(&s, "%s%s: %s%s%s", it->file ? it->file : "", line, keyed ? it->key : "",
                             keyed ? ": " : "", it->message) < 0)
                        return NULL;
                return s;
        }
        return NULL;
}

void diag_free(struct diagnostics *d)
{
        while (d->blocks) {
                struct diag_block *next = d->blocks->next;
                free(d->blocks);
                d->blocks = next;
        }
        free(d->items);
        *d = (struct diagnostics){ 0 };
}
