-- +goose Up
-- The sweep that finds scorings left running by a dead worker reads only
-- the running ones, however many scorings the fleet has kept.
CREATE INDEX scorings_running ON scorings (shop) WHERE state = 'running';

-- +goose Down
DROP INDEX scorings_running;
