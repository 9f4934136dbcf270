package spec

//go:generate go run ../cmd/frontend schema -o ../schema/acaifile.schema.json
//go:generate go run ../cmd/frontend reference -o ../docs/reference.md
