package spec

//go:generate go run ../cmd/frontend schema -o ../schema/acaifile.schema.json
