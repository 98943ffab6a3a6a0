/* Verbs not built yet. */
#include "util.h"
#include "verbs.h"

int verb_verify(const struct global_options *options, int argc, char **argv)
{
	(void)options, (void)argc, (void)argv;
	die("verify: not implemented yet");
}
