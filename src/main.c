/*
 * main.c: hostswap's entry point; everything else is in the commands.
 */
#include "cmd.h"

int
main(int argc, char **argv)
{
	return cmd_main(argc, argv);
}
