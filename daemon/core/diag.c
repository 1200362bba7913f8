/* diag.c — diagnostics list; see diag.h. */
#include "core/diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                size_t cap = d->capacity ? d->capacity * 2 : 8;
                struct diagnostic *items = realloc(d->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                d->items = items;
                d->capacity = cap;
        }
        /* One allocation per item, message then file then key: a file of
         * errors costs one malloc per line, not four (vasprintf's two). */
        char first[256];
        va_list copy;
        va_copy(copy, ap);
        int n = vsnprintf(first, sizeof(first), fmt, copy);
        va_end(copy);
        if (n < 0)
                return -EINVAL;
        size_t mlen = (size_t)n, flen = file ? strlen(file) + 1 : 0, klen = key ? strlen(key) + 1 : 0;
        char *block = malloc(mlen + 1 + flen + klen);
        if (!block)
                return -ENOMEM;
        if (mlen < sizeof(first))
                memcpy(block, first, mlen + 1);
        else
                vsnprintf(block, mlen + 1, fmt, ap);
        struct diagnostic *item = &d->items[d->count++];
        *item = (struct diagnostic){ .severity = severity, .line = line, .message = block };
        if (file)
                item->file = memcpy(block + mlen + 1, file, flen);
        if (key)
                item->key = memcpy(block + mlen + 1 + flen, key, klen);
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
        if (to->count + from->count > to->capacity) {
                size_t cap = to->count + from->count;
                struct diagnostic *items = realloc(to->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                to->items = items;
                to->capacity = cap;
        }
        if (from->count)
                memcpy(to->items + to->count, from->items, from->count * sizeof(*from->items));
        to->count += from->count;
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
        for (size_t i = 0; i < d->count; i++)
                free(d->items[i].message);
        free(d->items);
        *d = (struct diagnostics){ 0 };
}
