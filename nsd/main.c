/*
 * main.c --
 *
 *      The nsd program: everything is in libnsd, as in NaviServer, so
 *      that a module links against the same library the server runs.
 */

#include "ns.h"

int
main(int argc, char **argv)
{
    return Ns_Main(argc, argv);
}
