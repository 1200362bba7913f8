/* inifile.c — INI lines through inih with our own reader; see inifile.h. */
#include "core/inifile.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one line inih ever sees: it makes inih call our handler once, for
 * the entry the reader has just completed. Short enough for any
 * INI_MAX_LINE, free of comment characters and leading blanks. */
static const char SYNTHETIC_ENTRY[] = "entry=1\n";

struct reader {
        const char *file;
        const char *p, *end;
        unsigned line; /* number of the last raw line read */
        const struct inifile_ops *ops;
        void *user;
        struct diagnostics *diags;
        int error; /* first negative errno from a callback or allocation */
        /* The entry handed to inih, applied by handler(). */
        char *key;
        size_t key_cap;
        char *value;
        size_t value_len, value_cap;
        unsigned entry_line;
        bool entry_ready;
        bool stop; /* the entry callback asked to read no further */
};

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool inifile_valid_section(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > INIFILE_MAX_SECTION)
                return false;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                      *c == '_' || *c == '.'))
                        return false;
        return true;
}

/* The next raw line, without its "\n" or "\r\n"; false at the end. */
static bool next_line(struct reader *r, const char **start, size_t *len)
{
        if (r->p >= r->end)
                return false;
        const char *s = r->p;
        const char *nl = memchr(s, '\n', (size_t)(r->end - s));
        const char *e = nl ? nl : r->end;
        r->p = nl ? nl + 1 : r->end;
        r->line++;
        if (r->line == 1 && e - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
                s += 3;
        if (e > s && e[-1] == '\r')
                e--;
        *start = s;
        *len = (size_t)(e - s);
        return true;
}

/* Peeks whether the next raw line continues a value: it starts with a
 * blank and holds something other than a comment. */
static bool next_is_continuation(const struct reader *r)
{
        const char *s = r->p;
        if (s >= r->end || !is_blank(*s))
                return false;
        while (s < r->end && is_blank(*s))
                s++;
        return s < r->end && *s != '\n' && *s != '\r' && *s != '#' && *s != ';';
}

static void trim(const char **s, size_t *len)
{
        while (*len && is_blank(**s))
                (*s)++, (*len)--;
        while (*len && is_blank((*s)[*len - 1]))
                (*len)--;
}

#define READER_ERROR(r, at, ...)                                                                       \
        do {                                                                                           \
                if (diag_add((r)->diags, DIAG_ERROR, (r)->file, (at), __VA_ARGS__) < 0 && !(r)->error) \
                        (r)->error = -ENOMEM;                                                          \
        } while (0)

/* Appends in amortised constant time per byte: the length is kept, never
 * recounted (a million continuation lines were quadratic). */
static int value_append(struct reader *r, const char *s, size_t len, bool newline)
{
        size_t have = r->value_len;
        size_t need = have + newline + len + 1;
        if (need > r->value_cap) {
                size_t cap = need < 256 ? 256 : need * 2;
                char *v = realloc(r->value, cap);
                if (!v)
                        return -ENOMEM;
                r->value = v;
                r->value_cap = cap;
        }
        if (newline)
                r->value[have++] = '\n';
        memcpy(r->value + have, s, len);
        r->value[have + len] = '\0';
        r->value_len = have + len;
        return 0;
}

/* Whether TEXT (a trimmed continuation line) reads "known_key = ...". */
static bool looks_like_key(struct reader *r, const char *s, size_t len)
{
        const char *eq = memchr(s, '=', len);
        if (!eq)
                return false;
        size_t klen = (size_t)(eq - s);
        while (klen && is_blank(s[klen - 1]))
                klen--;
        char key[64];
        if (klen == 0 || klen >= sizeof(key))
                return false;
        memcpy(key, s, klen);
        key[klen] = '\0';
        return r->ops->known_key(r->user, key);
}

static void section_line(struct reader *r, const char *s, size_t len)
{
        /* On the stack: a valid name is short, and a file is mostly
         * headers and keys (one allocation per header was a fifth of
         * what loading a file of them cost under the fuzzer). */
        char buf[INIFILE_MAX_SECTION + 1];
        const char *name = NULL;
        const char *close = memchr(s, ']', len);
        if (!close) {
                READER_ERROR(r, r->line, "section header is missing its closing ']'");
                goto done;
        }
        const char *rest = close + 1;
        size_t rest_len = len - (size_t)(rest - s);
        trim(&rest, &rest_len);
        if (rest_len) {
                READER_ERROR(r, r->line, "unexpected text after ']' (comments go on their own line)");
                goto done;
        }
        size_t n = (size_t)(close - s - 1);
        if (n > INIFILE_MAX_SECTION) {
                READER_ERROR(r, r->line, "section name is %zu bytes long; the limit is %d", n, INIFILE_MAX_SECTION);
                goto done;
        }
        memcpy(buf, s + 1, n);
        buf[n] = '\0';
        if (!inifile_valid_section(buf))
                READER_ERROR(r, r->line,
                             "invalid section name '%s': use only letters, digits, '-', '_' and '.' "
                             "(no quotes or spaces)",
                             buf);
        else
                name = buf;
done:;
        int k = r->ops->section(r->user, name, r->line);
        if (k < 0 && !r->error)
                r->error = k;
        else if (k > 0)
                r->stop = true;
}

/* The length of the token at S (up to END) if every byte of it is in SET,
 * else 0. */
static size_t token_of(const char *s, const char *end, const char *set)
{
        size_t n = 0;
        while (s + n < end && !is_blank(s[n])) {
                if (!strchr(set, s[n]))
                        return 0;
                n++;
        }
        return n;
}

/* Whether S (trimmed, without '=') reads as a classic crontab(5) line,
 * pasted as it was: five time fields or an @keyword, then a command. Sets
 * *SCHEDULE_LEN to the length of the schedule part and *COMMAND to the
 * command. Minute and hour must be numeric (or '*'), so prose is not taken
 * for one. */
static bool crontab_line_split(const char *s, size_t len, size_t *schedule_len, const char **command)
{
        static const char *const keywords[] = { "@reboot", "@yearly", "@annually", "@monthly",
                                                "@weekly", "@daily",  "@midnight", "@hourly" };
        static const char numeric[] = "0123456789*,/-", named[] =
                                                                "0123456789*,/-?LW#"
                                                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const char *end = s + len, *p = s;
        size_t n = 0;
        if (*s == '@') {
                for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]) && !n; i++) {
                        size_t k = strlen(keywords[i]);
                        if (len > k && strncasecmp(s, keywords[i], k) == 0 && is_blank(s[k]))
                                n = k;
                }
                if (!n)
                        return false;
                p += n;
        } else {
                for (int field = 0; field < 5; field++) {
                        while (p < end && is_blank(*p))
                                p++;
                        n = token_of(p, end, field < 2 ? numeric : named);
                        if (n == 0)
                                return false;
                        p += n;
                }
        }
        *schedule_len = (size_t)(p - s);
        while (p < end && is_blank(*p))
                p++;
        *command = p;
        return p < end;
}

/* A "KEY = VALUE" line and its continuations: sets the reader's entry.
 * Returns true when an entry is ready for inih. */
/* A line with no '=' in a section: a crontab(5) line pasted in gets a
 * message that rewrites it. Always false (the line is an error). */
static bool line_without_equals(struct reader *r, const char *s, size_t len)
{
        size_t schedule_len;
        const char *command;
        if (!crontab_line_split(s, len, &schedule_len, &command)) {
                READER_ERROR(r, r->line, "expected 'KEY = VALUE', a '[NAME]' header or a comment");
                return false;
        }
        READER_ERROR(r, r->line,
                     "this looks like a crontab(5) line: write it as schedule = %.*s and command = %.*s in a "
                     "[section]",
                     (int)schedule_len, s, (int)(len - (size_t)(command - s)), command);
        /* The line stands for both keys: the section lacks neither. */
        if (r->ops->dropped) {
                r->ops->dropped(r->user, "schedule", r->line);
                r->ops->dropped(r->user, "command", r->line);
        }
        return false;
}

/* The key and value buffers are reused from entry to entry (a
 * 10,000-job file has ~50,000 entries): KEY into r->key, VALUE starts
 * r->value. Returns 0 or -ENOMEM (also in r->error). */
static int entry_start(struct reader *r, const char *k, size_t klen, const char *v, size_t vlen)
{
        if (klen + 1 > r->key_cap) {
                char *bigger = realloc(r->key, klen + 64);
                if (!bigger)
                        return r->error = -ENOMEM;
                r->key = bigger;
                r->key_cap = klen + 64;
        }
        memcpy(r->key, k, klen);
        r->key[klen] = '\0';
        if (r->value)
                r->value[0] = '\0';
        r->value_len = 0;
        if (value_append(r, v, vlen, false) < 0)
                return r->error = -ENOMEM;
        r->entry_line = r->line;
        return 0;
}

static bool entry_line(struct reader *r, const char *s, size_t len)
{
        const char *eq = memchr(s, '=', len);
        if (!eq)
                return line_without_equals(r, s, len);
        const char *k = s;
        size_t klen = (size_t)(eq - s);
        trim(&k, &klen);
        const char *v = eq + 1;
        size_t vlen = len - (size_t)(v - s);
        trim(&v, &vlen);
        if (klen == 0) {
                READER_ERROR(r, r->line, "missing key before '='");
                return false;
        }
        if (entry_start(r, k, klen, v, vlen) < 0)
                return false;
        bool ok = true, too_long = false;
        while (next_is_continuation(r)) {
                const char *c;
                size_t clen;
                next_line(r, &c, &clen);
                if (too_long)
                        continue; /* reported once, at the line that crossed the limit */
                if (clen > INIFILE_MAX_LINE) {
                        READER_ERROR(r, r->line, "line is %zu bytes long; the limit is %d", clen, INIFILE_MAX_LINE);
                        ok = false;
                        continue;
                }
                trim(&c, &clen);
                if (memchr(c, '\0', clen)) {
                        READER_ERROR(r, r->line, "line contains a NUL byte");
                        ok = false;
                } else if (looks_like_key(r, c, clen)) {
                        READER_ERROR(r, r->line,
                                     "indented line looks like a key: keys start at the beginning of a line "
                                     "(an indented line continues the value above)");
                        ok = false;
                } else if (!r->ops->continuable(r->user, r->key)) {
                        READER_ERROR(r, r->line,
                                     "'%s' does not take continuation lines (an indented line continues the "
                                     "value above)",
                                     r->key);
                        ok = false;
                } else if (r->value_len + 1 + clen > INIFILE_MAX_VALUE) {
                        READER_ERROR(r, r->line, "'%s' is longer than %d bytes with its continuation lines", r->key,
                                     INIFILE_MAX_VALUE);
                        ok = false;
                        too_long = true;
                } else if (value_append(r, c, clen, r->value_len != 0) < 0) {
                        /* "command =" alone on its line starts the value on the next. */
                        r->error = -ENOMEM;
                        return false;
                }
        }
        if (!ok && r->ops->dropped)
                r->ops->dropped(r->user, r->key, r->entry_line);
        return ok;
}

/* Tells the caller which key a dropped line held, if any. */
static void dropped_line(struct reader *r, const char *s, size_t len)
{
        if (!r->ops->dropped)
                return;
        while (len && is_blank(*s))
                s++, len--;
        size_t n = 0;
        while (n < len && n < 64 && s[n] != '=' && s[n] != '\0')
                n++;
        bool has_key = n < len && s[n] == '=';
        char key[65];
        while (n && is_blank(s[n - 1]))
                n--;
        memcpy(key, s, n);
        key[n] = '\0';
        has_key = has_key && n > 0;
        r->ops->dropped(r->user, has_key ? key : NULL, r->line);
}

static char *reader_next(char *str, int num, void *stream)
{
        struct reader *r = stream;
        const char *s;
        size_t len;

        while (!r->error && !r->stop && next_line(r, &s, &len)) {
                if (len > INIFILE_MAX_LINE) {
                        READER_ERROR(r, r->line, "line is %zu bytes long; the limit is %d", len, INIFILE_MAX_LINE);
                        dropped_line(r, s, len);
                        continue;
                }
                if (memchr(s, '\0', len)) {
                        READER_ERROR(r, r->line, "line contains a NUL byte");
                        dropped_line(r, s, len);
                        continue;
                }
                bool indented = len && is_blank(*s);
                trim(&s, &len);
                if (len == 0 || *s == '#' || *s == ';')
                        continue;
                if (indented) {
                        READER_ERROR(r, r->line,
                                     "line starts with white space: keys and headers start at the beginning of a "
                                     "line (an indented line continues the value of the key line above it)");
                        continue;
                }
                if (*s == '[') {
                        section_line(r, s, len);
                        continue;
                }
                if (entry_line(r, s, len)) {
                        if ((size_t)num < sizeof(SYNTHETIC_ENTRY)) {
                                r->error = -ENOBUFS;
                                return NULL;
                        }
                        memcpy(str, SYNTHETIC_ENTRY, sizeof(SYNTHETIC_ENTRY));
                        r->entry_ready = true;
                        return str;
                }
        }
        return NULL;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
        struct reader *r = user;
        if (!r->entry_ready || strcmp(name, "entry") != 0) {
                /* Only our synthetic line can get here. */
                if (!r->error)
                        r->error = -EPROTO;
                return 1;
        }
        r->entry_ready = false;
        int k = r->ops->entry(r->user, r->key, r->value, r->entry_line);
        if (k < 0 && !r->error)
                r->error = k;
        else if (k > 0)
                r->stop = true;
        return 1;
}

int inifile_parse(const char *file, const char *buf, size_t len, const struct inifile_ops *ops, void *user,
                  struct diagnostics *diags)
{
        struct reader r = {
                .file = file,
                .p = buf,
                .end = buf + len,
                .ops = ops,
                .user = user,
                .diags = diags,
        };
        int k = ini_parse_stream(reader_next, &r, handler, &r);
        free(r.key);
        free(r.value);
        if (r.error)
                return r.error;
        if (k == -2)
                return -ENOMEM;
        return k == 0 ? 0 : -EPROTO;
}
