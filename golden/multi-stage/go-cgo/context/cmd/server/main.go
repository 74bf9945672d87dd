package main

import (
	"database/sql"
	"flag"

	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db := flag.String("db", "notes.db", "database")
	flag.Parse()
	_, _ = sql.Open("sqlite3", *db)
	r := gin.Default()
	r.LoadHTMLGlob("templates/*")
	r.Run()
}
