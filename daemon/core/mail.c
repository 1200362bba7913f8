/* mail.c — a job's mail: which runs send one, addresses, headers; see
 * mail.h. */
#include "core/mail.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/cleanup.h"

static const char *const mail_on_names[] = {
        [MAIL_ON_OUTPUT] = "output",
        [MAIL_ON_FAILURE] = "failure",
        [MAIL_ON_ALWAYS] = "always",
};

const char *mail_on_name(enum mail_on on) { return (size_t)on < ELEMENTSOF(mail_on_names) ? mail_on_names[on] : "?"; }

int mail_on_from_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(mail_on_names); i++)
                if (strcmp(name, mail_on_names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

/* RFC 5322's atext, and the dots between atoms. */
static bool local_char(char c) { return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+/=?^_`{|}~-.", c)); }

/* One address of N bytes at A; NULL or why it is not one. */
static const char *address_problem(const char *a, size_t n)
{
        if (n == 0)
                return "an empty address (two commas, or one at an end)";
        const char *at = memchr(a, '@', n);
        size_t local = at ? (size_t)(at - a) : n;
        if (local == 0)
                return "an address without a local part";
        if (a[0] == '-')
                return "an address that starts with '-'";
        for (size_t i = 0; i < local; i++)
                if (!local_char(a[i]) || (a[i] == '.' && (i == 0 || i + 1 == local || a[i + 1] == '.')))
                        return "a character that is not allowed in the local part of an address";
        if (!at)
                return NULL;
        const char *d = at + 1;
        size_t dn = n - local - 1;
        if (dn == 0)
                return "an address with nothing after '@'";
        for (size_t i = 0; i < dn; i++) {
                bool dot = d[i] == '.';
                if (!(isalnum((unsigned char)d[i]) || d[i] == '-' || dot) ||
                    (dot && (i == 0 || i + 1 == dn || d[i + 1] == '.')))
                        return "a domain that is not dot-separated letters, digits and '-'";
        }
        return NULL;
}

const char *mail_address_problem(const char *v)
{
        if (strlen(v) > MAIL_TO_MAX)
                return "longer than 512 bytes";
        for (const char *c = v; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return "a control character (a newline?)";
        for (const char *p = v;;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t n = strcspn(p, ",");
                size_t end = n;
                while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
                        end--;
                const char *why = address_problem(p, end);
                if (why)
                        return why;
                if (!p[n])
                        return NULL;
                p += n + 1;
        }
}

bool mail_wanted(enum mail_on on, bool had_output, bool succeeded)
{
        switch (on) {
        case MAIL_ON_ALWAYS: return true;
        case MAIL_ON_FAILURE: return !succeeded;
        case MAIL_ON_OUTPUT: return had_output;
        }
        return false;
}

/* V as a header value: control characters (newlines among them) become
 * spaces, so nothing a job's command or a host name holds can start a
 * header of its own. */
static void put_safe(FILE *f, const char *v, size_t n)
{
        for (size_t i = 0; i < n && v[i]; i++)
                fputc((unsigned char)v[i] < 0x20 || v[i] == 0x7f ? ' ' : v[i], f);
}

/* How many bytes of S (at most MAX) end on a character boundary. */
static size_t utf8_cut(const char *s, size_t max)
{
        size_t n = strnlen(s, max + 1);
        if (n <= max)
                return n;
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
        return n;
}

/* The Subject's text: as it is when ASCII; else as RFC 2047 encoded
 * words of whole characters, folded, each within the 75-byte limit. */
static int put_subject(FILE *f, const char *text)
{
        bool ascii = true;
        for (const char *c = text; *c; c++)
                ascii = ascii && !((unsigned char)*c & 0x80);
        if (ascii) {
                fputs(text, f);
                return 0;
        }
        for (const char *p = text; *p;) {
                /* 48 base64 characters + 12 of the word: 69 with "Subject: " */
                size_t n = utf8_cut(p, 36);
                if (n == 0)
                        n = 1; /* a stray continuation byte: sent as it is, never looped on */
                _cleanup_free_ char *b64 = NULL;
                if (base64_encode(p, n, &b64) < 0)
                        return -ENOMEM;
                fprintf(f, "%s=?UTF-8?B?%s?=", p == text ? "" : "\n ", b64);
                p += n;
        }
        return 0;
}

/* "tickd <user@host> JOB: COMMAND" with the command cut and made safe. */
static char *subject_text(const struct mail_message *m)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        fputs("tickd <", f);
        put_safe(f, m->user, SIZE_MAX);
        fputc('@', f);
        put_safe(f, m->host, SIZE_MAX);
        fputs("> ", f);
        put_safe(f, m->job, SIZE_MAX);
        fputs(": ", f);
        size_t cut = utf8_cut(m->command, MAIL_SUBJECT_COMMAND_MAX);
        put_safe(f, m->command, cut);
        if (m->command[cut])
                fputs("...", f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static void put_header(FILE *f, const char *name, const char *value)
{
        fprintf(f, "%s: ", name);
        put_safe(f, value, SIZE_MAX);
        fputc('\n', f);
}

int mail_format_headers(const struct mail_message *m, char **out, size_t *len)
{
        _cleanup_free_ char *subject = subject_text(m);
        char *text = NULL;
        size_t size = 0;
        FILE *f = subject ? open_memstream(&text, &size) : NULL;
        if (!f)
                return -ENOMEM;
        fputs("From: tickd <", f);
        put_safe(f, m->user, SIZE_MAX);
        fputc('@', f);
        put_safe(f, m->host, SIZE_MAX);
        fputs(">\n", f);
        put_header(f, "To", m->to);
        fputs("Subject: ", f);
        int r = put_subject(f, subject);
        fputs("\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n"
              "Auto-Submitted: auto-generated\nPrecedence: bulk\n",
              f);
        put_header(f, "X-Tickd-Job", m->job);
        put_header(f, "X-Tickd-Run-Id", m->run_id);
        put_header(f, "X-Tickd-Result", m->result);
        if (m->has_exit_status)
                fprintf(f, "X-Tickd-Exit-Status: %d\n", m->exit_status);
        if (m->signal)
                fprintf(f, "X-Tickd-Signal: %d\n", m->signal);
        fputc('\n', f);
        if (fclose(f) != 0 || r < 0) {
                free(text);
                return -ENOMEM;
        }
        *out = text;
        *len = size;
        return 0;
}
