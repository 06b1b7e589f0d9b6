/*
 * sshd-keywords.c: which sshd_config keywords each OpenSSH release knows,
 * so that preflight can say before the night that a host's sshd would
 * refuse what the plan writes (an sshd that reads an unknown keyword, or
 * an unknown value of a multiple-choice keyword, refuses the whole file:
 * `sshd -t` fails, and a reload of it ends the listener).
 *
 * The table holds, for each keyword, the release that introduced it, read
 * from OpenSSH's release notes (https://www.openssh.com/releasenotes.html)
 * and checked against the keyword table of servconf.c at each release tag
 * of openssh-portable (V_3_0_P1 ... V_10_3_P1): a keyword is known from
 * the first tag whose table lists it. Keywords that later became
 * deprecated or unsupported stay in sshd's table (a warning, not a
 * refusal), so they stay known here too. Values are listed only where a
 * value came later than its keyword (the multiple-choice tables of
 * servconf.c): `PermitRootLogin prohibit-password` is 7.0, while
 * `without-password` is known since before 3.0 (deprecated, still
 * accepted). Note that `Include` is 8.2 in sshd_config (7.3 added it to
 * ssh_config only), and PubkeyAcceptedKeyTypes (6.8) became
 * PubkeyAcceptedAlgorithms in 8.5, the old name staying an alias.
 *
 * The scan of a text (a step's script, a put's content) is documented at
 * sshd_keywords_scan() and in docs/operations.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sshd-keywords.h"
#include "xmalloc.h"

#define V(major, minor) SSHD_VERSION(major, minor)
#define B               SSHD_BASELINE

/* Keywords (value NULL) and values that came after their keyword. */
static const struct sshd_keyword sshd_keywords[] = {
	/* Known in 3.0 or earlier. */
	{ "AllowGroups", NULL, B },
	{ "AllowTcpForwarding", NULL, B },
	{ "AllowUsers", NULL, B },
	{ "AuthorizedKeysFile", NULL, B },
	{ "AuthorizedKeysFile2", NULL, B },
	{ "Banner", NULL, B },
	{ "ChallengeResponseAuthentication", NULL, B },
	{ "Ciphers", NULL, B },
	{ "ClientAliveCountMax", NULL, B },
	{ "ClientAliveInterval", NULL, B },
	{ "DenyGroups", NULL, B },
	{ "DenyUsers", NULL, B },
	{ "GatewayPorts", NULL, B },
	{ "HostbasedAuthentication", NULL, B },
	{ "HostbasedUsesNameFromPacketOnly", NULL, B },
	{ "HostDSAKey", NULL, B },
	{ "HostKey", NULL, B },
	{ "IgnoreRhosts", NULL, B },
	{ "IgnoreUserKnownHosts", NULL, B },
	{ "KbdInteractiveAuthentication", NULL, B },
	{ "KeepAlive", NULL, B },
	{ "KerberosAuthentication", NULL, B },
	{ "KerberosOrLocalPasswd", NULL, B },
	{ "KerberosTicketCleanup", NULL, B },
	{ "KeyRegenerationInterval", NULL, B },
	{ "ListenAddress", NULL, B },
	{ "LoginGraceTime", NULL, B },
	{ "LogLevel", NULL, B },
	{ "MACs", NULL, B },
	{ "MaxStartups", NULL, B },
	{ "PasswordAuthentication", NULL, B },
	{ "PermitEmptyPasswords", NULL, B },
	{ "PermitRootLogin", NULL, B },
	{ "PidFile", NULL, B },
	{ "Port", NULL, B },
	{ "PrintLastLog", NULL, B },
	{ "PrintMotd", NULL, B },
	{ "Protocol", NULL, B },
	{ "PubkeyAuthentication", NULL, B },
	{ "RhostsRSAAuthentication", NULL, B },
	{ "RSAAuthentication", NULL, B },
	{ "ServerKeyBits", NULL, B },
	{ "StrictModes", NULL, B },
	{ "Subsystem", NULL, B },
	{ "SyslogFacility", NULL, B },
	{ "UseLogin", NULL, B },
	{ "X11DisplayOffset", NULL, B },
	{ "X11Forwarding", NULL, B },
	{ "XAuthLocation", NULL, B },
	/* Introduced later, oldest first. */
	{ "X11UseLocalhost", NULL, V(3, 1) },
	{ "VerifyReverseMapping", NULL, V(3, 1) },
	{ "UsePrivilegeSeparation", NULL, V(3, 2) },
	{ "Compression", NULL, V(3, 3) },
	{ "PermitUserEnvironment", NULL, V(3, 5) },
	{ "UsePAM", NULL, V(3, 7) },
	{ "GSSAPIAuthentication", NULL, V(3, 7) },
	{ "UseDNS", NULL, V(3, 7) },
	{ "KerberosGetAFSToken", NULL, V(3, 8) },
	{ "GSSAPICleanupCredentials", NULL, V(3, 8) },
	{ "TCPKeepAlive", NULL, V(3, 8) },
	{ "MaxAuthTries", NULL, V(3, 9) },
	{ "AcceptEnv", NULL, V(3, 9) },
	{ "AddressFamily", NULL, V(4, 0) },
	{ "PermitTunnel", NULL, V(4, 3) },
	{ "Match", NULL, V(4, 4) },
	{ "PermitOpen", NULL, V(4, 4) },
	{ "ForceCommand", NULL, V(4, 4) },
	{ "ChrootDirectory", NULL, V(4, 9) },
	{ "AllowAgentForwarding", NULL, V(5, 1) },
	{ "MaxSessions", NULL, V(5, 1) },
	{ "HostCertificate", NULL, V(5, 4) },
	{ "RevokedKeys", NULL, V(5, 4) },
	{ "TrustedUserCAKeys", NULL, V(5, 4) },
	{ "AuthorizedPrincipalsFile", NULL, V(5, 6) },
	{ "KexAlgorithms", NULL, V(5, 7) },
	{ "IPQoS", NULL, V(5, 7) },
	{ "UsePrivilegeSeparation", "sandbox", V(5, 9) },
	{ "VersionAddendum", NULL, V(6, 1) },
	{ "AuthorizedKeysCommand", NULL, V(6, 2) },
	{ "AuthorizedKeysCommandUser", NULL, V(6, 2) },
	{ "AuthenticationMethods", NULL, V(6, 2) },
	{ "AllowTcpForwarding", "local", V(6, 2) },
	{ "AllowTcpForwarding", "remote", V(6, 2) },
	{ "HostKeyAgent", NULL, V(6, 3) },
	{ "RekeyLimit", NULL, V(6, 3) },
	{ "PermitTTY", NULL, V(6, 5) },
	{ "PermitUserRC", NULL, V(6, 7) },
	{ "StreamLocalBindMask", NULL, V(6, 7) },
	{ "StreamLocalBindUnlink", NULL, V(6, 7) },
	{ "AllowStreamLocalForwarding", NULL, V(6, 7) },
	{ "HostbasedAcceptedKeyTypes", NULL, V(6, 8) },
	{ "PubkeyAcceptedKeyTypes", NULL, V(6, 8) },
	{ "FingerprintHash", NULL, V(6, 8) },
	{ "GSSAPIStrictAcceptorCheck", NULL, V(6, 9) },
	{ "AuthorizedPrincipalsCommand", NULL, V(6, 9) },
	{ "AuthorizedPrincipalsCommandUser", NULL, V(6, 9) },
	{ "PermitRootLogin", "prohibit-password", V(7, 0) },
	{ "HostKeyAlgorithms", NULL, V(7, 0) },
	{ "DisableForwarding", NULL, V(7, 4) },
	{ "ExposeAuthInfo", NULL, V(7, 6) },
	{ "RDomain", NULL, V(7, 7) },
	{ "SetEnv", NULL, V(7, 8) },
	{ "PermitListen", NULL, V(7, 8) },
	{ "CASignatureAlgorithms", NULL, V(7, 9) },
	{ "PubkeyAuthOptions", NULL, V(8, 2) },
	{ "Include", NULL, V(8, 2) },
	{ "SecurityKeyProvider", NULL, V(8, 2) },
	{ "IgnoreRhosts", "shosts-only", V(8, 3) },
	{ "LogVerbose", NULL, V(8, 5) },
	{ "HostbasedAcceptedAlgorithms", NULL, V(8, 5) },
	{ "PubkeyAcceptedAlgorithms", NULL, V(8, 5) },
	{ "PerSourceMaxStartups", NULL, V(8, 5) },
	{ "PerSourceNetBlockSize", NULL, V(8, 5) },
	{ "ModuliFile", NULL, V(8, 6) },
	{ "RequiredRSASize", NULL, V(9, 1) },
	{ "ChannelTimeout", NULL, V(9, 2) },
	{ "UnusedConnectionTimeout", NULL, V(9, 2) },
	{ "PAMServiceName", NULL, V(9, 8) },
	{ "PerSourcePenalties", NULL, V(9, 8) },
	{ "PerSourcePenaltyExemptList", NULL, V(9, 8) },
	{ "SshdSessionPath", NULL, V(9, 8) },
	{ "RefuseConnection", NULL, V(9, 9) },
	{ "SshdAuthPath", NULL, V(10, 0) },
	{ "GSSAPIDelegateCredentials", NULL, V(10, 3) },
};

#define SSHD_NKEYWORDS (sizeof sshd_keywords / sizeof sshd_keywords[0])

/*
 * The entry of a keyword (case-insensitive, as sshd reads it) and value:
 * the value's own entry if the value came later than the keyword, else
 * the keyword's; NULL for a word that is no sshd keyword.
 */
const struct sshd_keyword *
sshd_keyword_find(const char *name, const char *value)
{
	const struct sshd_keyword *kw = NULL;
	size_t i;

	for (i = 0; i < SSHD_NKEYWORDS; i++) {
		if (strcasecmp(sshd_keywords[i].name, name) != 0)
			continue;
		if (sshd_keywords[i].value == NULL) {
			if (kw == NULL)
				kw = &sshd_keywords[i];
		} else if (value != NULL &&
		    strcasecmp(sshd_keywords[i].value, value) == 0)
			return &sshd_keywords[i];
	}
	return kw;
}

/*
 * The OpenSSH release a server's banner names ("SSH-2.0-OpenSSH_6.7p1
 * Debian-5+deb8u8" is 607): -1 if the banner is not OpenSSH's, 0 if it
 * gives no version that can be read.
 */
int
sshd_version_of_banner(const char *banner)
{
	const char *p;
	long major, minor;
	char *end;

	if (banner == NULL || strncmp(banner, "SSH-", 4) != 0 ||
	    (p = strchr(banner + 4, '-')) == NULL)
		return -1;
	p++;
	if (strncmp(p, "OpenSSH", 7) != 0)
		return -1;
	/* OpenSSH_6.7p1, or a port's OpenSSH_for_Windows_8.1p1 */
	for (p += 7; *p != '\0' && *p != ' ' && !isdigit((unsigned char)*p);
	     p++)
		;
	if (!isdigit((unsigned char)*p))
		return 0;
	major = strtol(p, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return 0;
	minor = strtol(end + 1, &end, 10);
	if (major <= 0 || major > 99 || minor < 0 || minor > 99)
		return 0;
	return SSHD_VERSION((int)major, (int)minor);
}

/* A release number for people: "6.7", or "3.0 or earlier". */
void
sshd_version_string(int v, char *out, size_t len)
{
	snprintf(out, len, "%d.%d%s", v / 100, v % 100,
	    v <= SSHD_BASELINE ? " or earlier" : "");
}

/* Whether a text concerns sshd at all: it names "sshd" (any case). */
int
sshd_keywords_mentioned(const char *text)
{
	const char *p;

	for (p = text; *p != '\0'; p++)
		if (strncasecmp(p, "sshd", 4) == 0)
			return 1;
	return 0;
}

/* What separates the words of a line for the scan. */
#define SSHD_SEPARATORS " \t\r'\"`;|&()<>\\,"

/*
 * The words of one line (pointers into a copy the caller frees). A word
 * with a '/' that does not start with one (a piece of a sed expression)
 * is split at its slashes too; a path stays whole.
 */
static size_t
sshd_split(char *line, char **words, size_t max)
{
	size_t n = 0, len;
	char *p = line, *w, *end;

	while (*p != '\0' && n < max) {
		p += strspn(p, SSHD_SEPARATORS);
		if (*p == '\0')
			break;
		len = strcspn(p, SSHD_SEPARATORS);
		w = p;
		end = p + len;
		p = *end != '\0' ? end + 1 : end;
		*end = '\0';
		if (*w == '/') {
			words[n++] = w;
			continue;
		}
		for (; w != NULL && n < max; w = strchr(w, '/')) {
			while (*w == '/')
				*w++ = '\0';
			if (*w != '\0')
				words[n++] = w;
		}
	}
	return n;
}

/* Whether a value is written as it is: no expansion, not empty. */
static int
sshd_literal(const char *v)
{
	return v != NULL && *v != '\0' && strchr(v, '$') == NULL;
}

/* A shell function whose first argument a keyword's value is. */
struct sshd_fn {
	char name[64];
	const char *keyword;
};

/* The functions of a text, and where the reading of its lines is. */
struct sshd_scan {
	struct sshd_fn fns[16];
	size_t nfns;
	char cur[64]; /* the function being defined, or "" */
	sshd_keywords_cb cb;
	void *arg;
};

/*
 * A line that defines a function, NAME() or `function NAME`: its name
 * into out (1), or 0.
 */
static int
sshd_fn_def(const char *line, char *out, size_t len)
{
	const char *p = line, *start;
	size_t n;

	if (strncmp(p, "function ", 9) == 0)
		p += 9 + strspn(p + 9, " \t");
	start = p;
	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	n = (size_t)(p - start);
	p += strspn(p, " \t");
	if (n == 0 || n >= len || (strncmp(p, "()", 2) != 0 && start == line))
		return 0;
	memcpy(out, start, n);
	out[n] = '\0';
	return 1;
}

/* In a function's body: KEYWORD "$1" makes its first argument a value. */
static void
sshd_fn_body(struct sshd_scan *S, char **words, size_t n)
{
	const struct sshd_keyword *kw;
	size_t i, k;

	for (i = 0; i + 1 < n && S->nfns < sizeof S->fns / sizeof S->fns[0];
	     i++) {
		if ((strcmp(words[i + 1], "$1") != 0 &&
			strcmp(words[i + 1], "${1}") != 0) ||
		    (kw = sshd_keyword_find(words[i], NULL)) == NULL)
			continue;
		for (k = 0; k < S->nfns; k++)
			if (strcmp(S->fns[k].name, S->cur) == 0 &&
			    S->fns[k].keyword == kw->name)
				break;
		if (k < S->nfns)
			continue;
		snprintf(
		    S->fns[S->nfns].name, sizeof S->fns[0].name, "%s", S->cur);
		S->fns[S->nfns++].keyword = kw->name;
	}
}

/* Look at one line (a copy, split in place). */
static void
sshd_scan_line(struct sshd_scan *S, char *line, int pass)
{
	const struct sshd_keyword *kw;
	char *words[256], *eq, *value, name[64];
	size_t n, i, k;
	int names_sshd = 0, def;

	def = sshd_fn_def(line, name, sizeof name);
	n = sshd_split(line, words, sizeof words / sizeof words[0]);
	if (pass == 0) {
		if (def)
			snprintf(S->cur, sizeof S->cur, "%s", name);
		if (S->cur[0] != '\0')
			sshd_fn_body(S, words, n);
		if (n > 0 && strcmp(words[n - 1], "}") == 0 && (def || n == 1))
			S->cur[0] = '\0';
		return;
	}
	for (i = 0; i < n; i++)
		if (strcmp(words[i], "sshd") == 0)
			names_sshd = 1;
	for (i = 0; i < n; i++) {
		value = i + 1 < n ? words[i + 1] : NULL;
		/* A call of a function that writes its argument. */
		for (k = 0; !def && k < S->nfns; k++)
			if (strcmp(words[i], S->fns[k].name) == 0 &&
			    value != NULL && isalnum((unsigned char)*value) &&
			    sshd_literal(value))
				S->cb(
				    sshd_keyword_find(S->fns[k].keyword, value),
				    value, S->arg);
		/* ssh -o Keyword=value: the client's option, not sshd's. */
		if (i > 0 && strcmp(words[i - 1], "-o") == 0 && !names_sshd)
			continue;
		if ((eq = strchr(words[i], '=')) != NULL) {
			*eq = '\0';
			value = eq[1] != '\0' ? eq + 1 : value;
		}
		if ((kw = sshd_keyword_find(words[i], NULL)) != NULL &&
		    sshd_literal(value))
			S->cb(
			    sshd_keyword_find(words[i], value), value, S->arg);
		if (eq != NULL)
			*eq = '=';
	}
}

/*
 * Call cb for each sshd keyword a text writes, as far as a reading of its
 * lines can tell: in a line that is not a comment (its first non-blank
 * character is not '#'), a word that is a keyword of the table (any case,
 * as sshd reads it) followed by a literal value — the next word, or what
 * follows '=' in KEYWORD=VALUE. Words are separated by blanks, quotes,
 * ',', '\\' and the shell's operators, and a word that has a '/' but does
 * not start with one (not a path) by its slashes too, so that `sed
 * 's/^PermitRootLogin .*\/PermitRootLogin no/'` and `echo "SetEnv A=1"
 * >>sshd_config` are read too. A value made by an expansion ($1, ${x}) is
 * not literal and the keyword is left out, as is a keyword right after
 * `-o` on a line that does not run sshd (ssh's own options). A shell
 * function whose body writes KEYWORD "$1" writes KEYWORD VALUE where it
 * is called with a literal first argument (`sshd_root_login no`). cb gets
 * the value's entry when the value came later than its keyword. A search
 * pattern that names a keyword and value (grep, sed's old text) counts as
 * written: the reading cannot tell them apart.
 */
void
sshd_keywords_scan(const char *text, sshd_keywords_cb cb, void *arg)
{
	struct sshd_scan S;
	const char *p, *q;
	size_t len;
	char *line;
	int pass;

	memset(&S, 0, sizeof S);
	S.cb = cb;
	S.arg = arg;
	for (pass = 0; pass < 2; pass++) {
		for (p = text; *p != '\0';) {
			len = strcspn(p, "\n");
			q = p;
			while (q < p + len && (*q == ' ' || *q == '\t'))
				q++;
			if (q < p + len && *q != '#') {
				line = xstrndup(q, len - (size_t)(q - p));
				sshd_scan_line(&S, line, pass);
				free(line);
			}
			p += len;
			if (*p == '\n')
				p++;
		}
	}
}
