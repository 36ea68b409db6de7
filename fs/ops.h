/*
 * ops.h - FUSE callbacks that live in ops_meta.c (statfs, xattrs, and the
 * write operations, which all answer EROFS); the table is in ops.c.
 * Same rules as ops.c: no network I/O, any worker thread.
 */
#ifndef MS_OPS_H
#define MS_OPS_H

#include "fs.h"

void ms_statfs(fuse_req_t req, fuse_ino_t ino);
void ms_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void ms_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);

void ms_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi);
void ms_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void ms_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void ms_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void ms_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void ms_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	       const char *newname, unsigned int flags);
void ms_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void ms_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);
void ms_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
void ms_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		 size_t size, int flags);

#endif
