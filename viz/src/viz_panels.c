/*
 * viz_panels.c — the console panel and the metrics strip kept up to date
 * with a player (see viz_panels.h).
 */
#include <stdlib.h>

#include "al_error.h"
#include "viz_panels.h"

struct viz_panels {
    const viz_recording_t *rec;
    al_lint_t *lint;
    size_t lint_pos;     /* events the lint engine has seen */
    uint64_t checked_ns; /* the last al_lint_check_now moment */
    viz_metrics_t *metrics;
    al_lint_finding_t *findings;
    size_t num_findings, cap_findings;
};

viz_panels_t *viz_panels_new(const viz_recording_t *rec)
{
    viz_panels_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->rec = rec;
    if (!(v->metrics = viz_metrics_new(rec))) {
        free(v);
        return NULL;
    }
    return v;
}

void viz_panels_free(viz_panels_t *v)
{
    if (!v)
        return;
    al_lint_free(v->lint);
    viz_metrics_free(v->metrics);
    free(v->findings);
    free(v);
}

/* The lint engine as of events [0, pos) and moment now: forward feeds the
 * new events; backward (or a moment before the last check, whose
 * time-based findings would be in the future) starts over. */
static int viz__lints(viz_panels_t *v, size_t pos, uint64_t now)
{
    if (v->lint && (pos < v->lint_pos || now < v->checked_ns)) {
        al_lint_free(v->lint);
        v->lint = NULL;
    }
    if (!v->lint) {
        int rc = al_lint_new(&v->lint);
        if (rc != 0)
            return rc;
        viz_recording_feed(v->rec, true, 0, 0, &al_lint_consumer, v->lint);
        v->lint_pos = 0;
        v->checked_ns = 0;
    }
    if (pos > v->lint_pos) {
        viz_recording_feed(v->rec, false, v->lint_pos, pos, &al_lint_consumer, v->lint);
        v->lint_pos = pos;
    }
    if (now > v->checked_ns) {
        al_lint_check_now(v->lint, now);
        v->checked_ns = now;
    }
    size_t n = al_lint_findings(v->lint, NULL, 0);
    if (n > v->cap_findings) {
        al_lint_finding_t *f = realloc(v->findings, n * sizeof *f);
        if (!f)
            return AL_ENOMEM;
        v->findings = f;
        v->cap_findings = n;
    }
    v->num_findings = al_lint_findings(v->lint, v->findings, v->cap_findings);
    if (v->num_findings > v->cap_findings)
        v->num_findings = v->cap_findings;
    return 0;
}

int viz_panels_update(viz_panels_t *v, viz_scene_t *scene, const viz_player_t *p,
                      const al_console_snapshot_t *snap)
{
    int rc = viz__lints(v, p->pos, snap->now_ns);
    if (rc == 0)
        rc = viz_metrics_advance(v->metrics, snap->now_ns);
    viz_metrics_fill(v->metrics, snap->now_ns, &scene->metrics);
    viz_panel_build(&scene->panel, snap, p->console, v->findings, v->num_findings,
                    &scene->view.panel, &scene->view.sel);
    return rc;
}

size_t viz_panels_findings(const viz_panels_t *v, al_lint_finding_t *out, size_t max)
{
    for (size_t i = 0; i < v->num_findings && i < max; i++)
        out[i] = v->findings[i];
    return v->num_findings;
}

bool viz_panels_key(viz_view_t *view, int key)
{
    int col = viz_panel_col_for_key(key);
    if (col >= 0) {
        viz_panel_sort_by(&view->panel, (unsigned)col);
        return true;
    }
    switch (key) {
    case '\t':
        view->panel.open = !view->panel.open;
        return true;
    case 'f':
        view->sel.follow = !view->sel.follow;
        return true;
    default:
        return false;
    }
}
