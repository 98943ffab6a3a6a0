/* SPDX-License-Identifier: ISC */
#include "gitcage/keyline.h"

#include <stdbool.h>
#include <string.h>

static const char *const key_types[] = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The word at *pos, up to the next blank; *pos moves past it and the blanks after. */
static size_t next_word(const char *line, size_t len, size_t *pos, const char **word)
{
	size_t start = *pos, end = start;
	while (end < len && !is_blank(line[end]))
		end++;
	*word = line + start;
	*pos = end;
	while (*pos < len && is_blank(line[*pos]))
		(*pos)++;
	return end - start;
}

static const char *known_type(const char *word, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_types); i++)
		if (strlen(key_types[i]) == len && memcmp(word, key_types[i], len) == 0)
			return key_types[i];
	return NULL;
}

/* Base64 as ssh writes it: the alphabet, then at most two '='. */
static bool base64_ok(const char *word, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789+/";
	size_t i = 0;
	while (i < len && word[i] && strchr(alphabet, word[i]))
		i++;
	size_t body = i;
	while (i < len && word[i] == '=' && i - body < 2)
		i++;
	return body > 0 && i == len && len % 4 == 0;
}

static int check_bytes(const char *line, size_t len, struct error *err)
{
	if (len > KEYS_LINE_MAX)
		return error_set(err, "a line of %zu bytes (at most %u): refused whole", len,
				 KEYS_LINE_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return error_set(err, "a control character or NUL in a key line");
	}
	return 0;
}

int keys_parse_line(const char *line, size_t len, struct key_line *out, struct error *err)
{
	const char *type, *blob;
	size_t pos = 0;
	if (check_bytes(line, len, err) < 0)
		return -1;
	while (len && (line[len - 1] == '\r' || is_blank(line[len - 1])))
		len--; /* CRLF files, trailing blanks */
	while (pos < len && is_blank(line[pos]))
		pos++;
	if (pos == len || line[pos] == '#')
		return 0;
	size_t type_len = next_word(line, len, &pos, &type);
	const char *known = known_type(type, type_len);
	if (!known)
		return error_set(err, "not a key of a known type (options before a key are not "
				      "taken: gitcage writes its own)");
	size_t blob_len = next_word(line, len, &pos, &blob);
	if (!base64_ok(blob, blob_len))
		return error_set(err, "a %s key whose key data is not base64", known);
	*out = (struct key_line){known, blob, blob_len};
	return 1;
}
