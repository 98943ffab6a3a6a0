/* SPDX-License-Identifier: ISC */
/* libFuzzer target for keys_parse_line (src/gitcage/keyline.c): one line of a key file, which
 * gitcage keys turns into an authorized_keys line with its own forced command. A key taken has
 * a type from the table and a blob of base64 inside the line (so nothing of the line's options
 * or control bytes reaches the authorized_keys line); a line passed over is blank or a comment;
 * a refusal says why; and the key written back as "TYPE BLOB" reads as the same key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitcage/keyline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

/* keyline.c's table, written again on purpose: a type added there must be added here too,
 * knowingly, or this target refuses it. */
static const char *const types[] = {
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
};

static int base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static void check_key(const struct key_line *key, const char *line, size_t len)
{
	int known = 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		known |= strcmp(key->type, types[i]) == 0;
	check(known, "a type outside the table");
	check(key->blob >= line && key->blob + key->blob_len <= line + len, "a blob outside");
	check(key->blob_len > 0 && key->blob_len % 4 == 0, "a blob of a length base64 has not");
	size_t body = 0;
	while (body < key->blob_len && base64_char(key->blob[body]))
		body++;
	check(body > 0 && key->blob_len - body <= 2, "a blob that is not base64");
	for (size_t i = body; i < key->blob_len; i++)
		check(key->blob[i] == '=', "a blob that is not base64");
	/* The line, from its first non-blank byte, starts with the type and one blank. */
	size_t start = 0, type_len = strlen(key->type);
	while (start < len && (line[start] == ' ' || line[start] == '\t'))
		start++;
	check(len - start > type_len && memcmp(line + start, key->type, type_len) == 0 &&
		  (line[start + type_len] == ' ' || line[start + type_len] == '\t'),
	      "the type is not the first word");
}

static void check_round_trip(const struct key_line *key)
{
	size_t len = strlen(key->type) + 1 + key->blob_len;
	char *line = malloc(len);
	memcpy(line, key->type, strlen(key->type));
	line[strlen(key->type)] = ' ';
	memcpy(line + strlen(key->type) + 1, key->blob, key->blob_len);
	struct key_line again;
	struct error err;
	check(keys_parse_line(line, len, &again, &err) == 1, "the key written back is refused");
	check(again.type == key->type && again.blob_len == key->blob_len &&
		  memcmp(again.blob, key->blob, key->blob_len) == 0,
	      "the key written back reads as another key");
	free(line);
}

static void check_skipped(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	check(i == len || line[i] == '#', "a line passed over that is neither blank nor a comment");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Not NUL-terminated, as the reader hands lines over: ASan catches a read past the end. */
	char *line = malloc(size ? size : 1);
	memcpy(line, data, size);
	struct key_line key;
	struct error err = {.message = ""};
	int rc = keys_parse_line(line, size, &key, &err);
	check(rc >= -1 && rc <= 1, "a result other than -1, 0 or 1");
	if (rc == 1) {
		for (size_t i = 0; i < size; i++)
			check(((unsigned char)line[i] >= 0x20 && line[i] != 0x7f) ||
				  line[i] == '\t' || line[i] == '\r',
			      "a key taken from a line with a control byte");
		check_key(&key, line, size);
		check_round_trip(&key);
	} else if (rc == 0) {
		check_skipped(line, size);
	} else {
		check(err.message[0] != '\0', "a refusal without a reason");
	}
	free(line);
	return 0;
}
