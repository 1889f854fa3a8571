/* The committed store: nodes indexed by path, each linked to its parent
 * and its siblings so that listing children never scans other subtrees. */
#ifndef XSD_TREE_H
#define XSD_TREE_H

#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>

struct hmap;
struct perms;

struct node {
	const char	*key;		/* == path; what the index compares */
	struct node	*parent;
	struct node	*child_first;
	struct node	*child_last;
	struct node	*prev;
	struct node	*next;
	struct perms	*perms;
	char		*value;
	uint64_t	 gen;		/* last commit changing it or its
					   list of children */
	uint64_t	 vgen;		/* last commit creating it or changing
					   its value or permissions */
	uint32_t	 vlen;
	uint32_t	 nchildren;
	uint32_t	 children_len;	/* bytes of "name\0" for all children */
	char		 path[];
};

struct tree {
	struct hmap	*index;		/* nodes by path */
	struct node	*root;
	uint64_t	 nnodes;
	uint64_t	 path_bytes;
	uint64_t	 value_bytes;
	uint32_t	*owned;		/* nodes per owner domid, below
					   DOMID_FIRST_RESERVED */
};

typedef void tree_visit_cb(struct node *, void *);

struct tree	*tree_create(struct perms *);
void		 tree_free(struct tree *);
struct node	*tree_lookup(const struct tree *, const char *);
struct node	*tree_add(struct tree *, struct node *, const char *,
		    struct perms *, const void *, uint32_t, uint64_t);
void		 tree_set_value(struct tree *, struct node *, const void *,
		    uint32_t, uint64_t);
void		 tree_set_perms(struct tree *, struct node *, struct perms *,
		    uint64_t);
void		 tree_remove(struct tree *, struct node *, uint64_t,
		    tree_visit_cb *, void *);
void		 tree_walk(struct node *, tree_visit_cb *, void *);
const char	*tree_node_name(const struct node *);
uint32_t	 tree_owned(const struct tree *, uint32_t);
void		 tree_owner_moved(struct tree *, uint32_t, uint32_t);
int		 tree_check(const struct tree *, FILE *);
void		 tree_print(const struct tree *, FILE *);

#endif
