/* main.c: the repcollapse executable, the only code outside the library: it
 * hands its command line to rc_command_main (command.h). */
#include "repcollapse/command.h"

int main(int argc, char **argv) { return rc_command_main(argc, argv); }
