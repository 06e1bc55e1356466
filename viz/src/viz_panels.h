/*
 * viz_panels.h — what a frame shows beyond the runtime floor, kept up to
 * date with a player (viz_player.h): the console panel (viz_panel.h), with
 * the lint findings so far, and the metrics strip (viz_metrics.h).
 *
 * It owns a lint engine (al_lint.h) fed the recording's events up to the
 * player's position (a step back rebuilds it from the start, as the player
 * does its console model) and a metrics sampler. The window, the headless
 * screenshot and the tests call viz_panels_update after viz_scene_build:
 *
 *   viz_scene_build(scene, snap, p->motion, &opts);
 *   viz_panels_update(panels, scene, p, snap);   // scene->panel, scene->metrics
 */
#ifndef VIZ_PANELS_H
#define VIZ_PANELS_H

#include <stdbool.h>
#include <stddef.h>

#include "al_lint.h"
#include "viz_player.h"
#include "viz_scene.h"

typedef struct viz_panels viz_panels_t;

/* For the player's recording (borrowed). NULL when out of memory. */
viz_panels_t *viz_panels_new(const viz_recording_t *rec);
void viz_panels_free(viz_panels_t *v);

/* Fill scene->panel and scene->metrics as of the player's position; snap is
 * the player's snapshot the scene was built from. 0, or AL_ENOMEM. */
int viz_panels_update(viz_panels_t *v, viz_scene_t *scene, const viz_player_t *p,
                      const al_console_snapshot_t *snap);

/* The panel's and selection's keys (SDL keycodes, which are the ASCII
 * characters for these): Tab opens / closes the panel, 1-6 sort the task
 * table (viz_panel_col_for_key), F turns following the selected task on /
 * off. True when the key was one of them. */
bool viz_panels_key(viz_view_t *view, int key);

/* The lint findings up to the last update (oldest first): copies up to max,
 * returns how many there are. */
size_t viz_panels_findings(const viz_panels_t *v, al_lint_finding_t *out, size_t max);

#endif
