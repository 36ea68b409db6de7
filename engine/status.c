/* status.c - names for enum ms_status. */
#include "status.h"

const char *ms_status_name(enum ms_status st)
{
	switch (st) {
	case MS_OK: return "ok";
	case MS_ERR_USAGE: return "usage error";
	case MS_ERR_NOMEM: return "out of memory";
	case MS_ERR_IO: return "local I/O error";
	case MS_ERR_RESOLVE: return "unknown host";
	case MS_ERR_CONNECT: return "cannot connect";
	case MS_ERR_TLS: return "TLS error";
	case MS_ERR_AUTH: return "login refused";
	case MS_ERR_TIMEOUT: return "timeout";
	case MS_ERR_CLOSED: return "connection closed";
	case MS_ERR_PROTO: return "protocol error";
	case MS_ERR_NO: return "refused by server";
	case MS_ERR_BAD: return "command rejected by server";
	case MS_ERR_INTERRUPTED: return "interrupted";
	case MS_ERR_NOTFOUND: return "not found";
	}
	return "unknown status";
}

int ms_status_is_fatal_conn(enum ms_status st)
{
	return st == MS_ERR_TIMEOUT || st == MS_ERR_CLOSED || st == MS_ERR_PROTO ||
	       st == MS_ERR_CONNECT || st == MS_ERR_TLS || st == MS_ERR_INTERRUPTED;
}
